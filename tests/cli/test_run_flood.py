"""``radyar run`` allowed 256 open files keeps answering /healthz, MLLP and the bot while 1000
idle connections are held against its MLLP listener and 1000 against its HTTP listener."""

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

from notifier.mllp import send_mllp
from sandbox.botapi import BotApiSandbox, RateLimits
from tests.flood import flood
from tests.notifier.test_hl7 import message

pytestmark = pytest.mark.slow  # a real radyar run process

TOKEN = "424242:RUN-FLOOD-TEST"
USER = 9001
LIMIT = 256
FLOOD = 1000
RADYAR = str(Path(sys.executable).with_name("radyar"))
# Lower the open-file limit, soft and hard, then become ``radyar run`` (no preexec_fn).
UNDER_LIMIT = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
ACCEPTED = re.compile(r'^radyar_listener_accepted_total\{listener="(\w+)"\} (\d+)$', re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


Process = asyncio.subprocess.Process


async def _healthy(session: aiohttp.ClientSession, url: str, process: Process) -> None:
    for _ in range(600):
        assert process.returncode is None, "radyar run exited"
        try:
            async with session.get(url + "/healthz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("radyar run never became healthy")


async def _accepted(session: aiohttp.ClientSession, url: str) -> dict[str, int]:
    async with session.get(url + "/metrics") as r:
        assert r.status == 200
        return {name: int(count) for name, count in ACCEPTED.findall(await r.text())}


async def _met_the_floods(session: aiohttp.ClientSession, url: str) -> dict[str, int]:
    """Until both listeners have accepted the whole flood (and admitted or refused each)."""
    for _ in range(600):
        accepted = await _accepted(session, url)
        if accepted.get("mllp", 0) >= FLOOD and accepted.get("http", 0) >= FLOOD:
            return accepted
        await asyncio.sleep(0.1)
    raise AssertionError(f"the listeners met only {accepted}")


async def _bot_answers(chat: BotApiSandbox) -> None:
    chat.create_user(USER, "بیمار", language_code="fa")
    chat.send_command(USER, "start")
    for _ in range(600):
        if any(m.from_bot for m in chat.messages_to(USER)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not answer /start")


async def test_radyar_run_with_256_open_files_keeps_answering_through_two_floods(
    tmp_path: Path,
) -> None:
    mllp_port, http_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{http_port}"
    log_path = tmp_path / "run.log"
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as chat:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")} | {
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_TELEGRAM_TOKEN": TOKEN,
            "RADYAR_BOT_API_URL": chat.base_url,
            "RADYAR_BOT_FILE_URL": chat.base_file_url,
            "RADYAR_MLLP_PORT": str(mllp_port),
            "RADYAR_HTTP_PORT": str(http_port),
        }
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-c", UNDER_LIMIT, str(LIMIT), RADYAR, "run"),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        try:
            async with aiohttp.ClientSession() as session:
                await _healthy(session, url, process)
                async with flood(mllp_port, FLOOD) as at_mllp, flood(http_port, FLOOD) as at_http:
                    assert (at_mllp.connected, at_http.connected) == (FLOOD, FLOOD)
                    accepted = await _met_the_floods(session, url)
                    fds = [_fds(process.pid)]
                    async with session.get(url + "/healthz") as r:
                        assert r.status == 200
                    ack = await send_mllp("127.0.0.1", mllp_port, message("oru_r01_final.hl7"))
                    await _bot_answers(chat)
                    fds.append(_fds(process.pid))
                    await at_mllp.release()
                    await at_http.release()
        finally:
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.wait_for(process.wait(), 30)
    logged = log_path.read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, logged[-3000:]
    assert b"MSA|AE|RIS00001001" in ack  # answered: kept for staff, no booking has that number
    assert accepted["mllp"] >= FLOOD and accepted["http"] >= FLOOD
    assert max(fds) <= 64 + 64 + 64, fds  # both caps, and the rest of the process
    assert "the open-file limit (256) is below" in logged  # it said so at the start
    for failure in ("Too many open files", "unable to open database", "Traceback"):
        assert failure not in logged, logged[-3000:]
