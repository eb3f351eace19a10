"""``radyar demo --web`` (the README's first command) as a visitor runs it: it prints the
page's address on 127.0.0.1, serves the page, and on SIGTERM stops and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).parents[2]
START_SECONDS = 90.0  # migrations, the seed, Orthanc when it is installed

pytestmark = pytest.mark.slow  # a subprocess


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _there(path: Path) -> bool:
    return path.exists()


async def test_the_web_demo_serves_its_page_until_sigterm_and_cleans_up(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")}
    # Whatever the visitor's own settings say, the demo keeps to its own folder.
    env["RADYAR_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'theirs.db'}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "radyar", "demo", "--web", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(START_SECONDS):
            first = (await process.stdout.readline()).decode()
            second = (await process.stdout.readline()).decode()
        assert f"http://127.0.0.1:{port}/" in first
        found = re.search(r"department in (\S+?)[,.]", second)
        assert found is not None, second
        folder = Path(found.group(1))
        assert _there(folder)
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
            assert 'dir="rtl"' in await page.text()
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            rest, _errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert "stopped" in rest.decode()
    assert not _there(folder)  # the demo's database and files went with it
    assert not _there(tmp_path / "theirs.db")  # and the visitor's database was not touched
