"""`python -m sandbox.sms` serves on loopback until interrupted."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request


def _base_url(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stderr is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.2)
        if ready:
            match = re.search(r"base_url=(\S+)", process.stderr.readline())
            if match:
                return match.group(1)
    raise AssertionError("the sandbox did not say where it listens")


def test_the_command_serves_until_sigint() -> None:
    command = [sys.executable, "-m", "sandbox.sms", "--port", "0", "--kavenegar-key", "k" * 16]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        url = _base_url(process, time.monotonic() + 20)
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/_sandbox/counters", timeout=5) as response:
            assert json.load(response) == {"ok": True, "result": {}}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_the_command_needs_a_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.sms", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode != 0
    assert "key" in result.stderr
