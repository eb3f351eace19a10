"""`python -m sandbox.sms` serves on loopback until interrupted."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request


def _base_url(process: subprocess.Popen[bytes], deadline: float) -> str:
    """Read stderr unbuffered (a buffered reader would hide lines from select)."""
    assert process.stderr is not None
    fd, seen = process.stderr.fileno(), b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            seen += os.read(fd, 4096)
            match = re.search(rb"base_url=(\S+)", seen)
            if match:
                return match.group(1).decode()
    raise AssertionError("the sandbox did not say where it listens")


def test_the_command_serves_until_sigint() -> None:
    command = [sys.executable, "-m", "sandbox.sms", "--port", "0", "--kavenegar-key", "k" * 16]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
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
