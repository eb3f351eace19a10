"""``radyar run`` with both RADYAR_TELEGRAM_TOKEN and RADYAR_BALE_TOKEN runs both bots, each
polling its own Bot API (issue 14, part 1); a patient on either gets the welcome."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import TYPE_CHECKING

import aiohttp
import pytest

from sandbox.botapi import BotApiSandbox, RateLimits
from tests.cli.test_run_flood import RADYAR, _free_port, _healthy

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow  # a real radyar run process

TELEGRAM_TOKEN, BALE_TOKEN = "515151:RUN-TELEGRAM", "626262:RUN-BALE"


async def _answered(sandbox: BotApiSandbox, user: int) -> str:
    for _ in range(300):
        sent = [m for m in sandbox.messages_to(user) if m.from_bot]
        if sent:
            return sent[0].text or ""
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer on {sandbox.platform}")


async def test_both_bots_answer_in_one_radyar_run(tmp_path: Path) -> None:
    http_port = _free_port()
    log_path = tmp_path / "run.log"
    async with (
        BotApiSandbox([TELEGRAM_TOKEN], limits=RateLimits.disabled()) as telegram,
        BotApiSandbox([BALE_TOKEN], platform="bale", limits=RateLimits.disabled()) as bale,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")} | {
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "RADYAR_BALE_TOKEN": BALE_TOKEN,
            "RADYAR_TELEGRAM_API_URL": telegram.base_url,
            "RADYAR_TELEGRAM_FILE_URL": telegram.base_file_url,
            "RADYAR_BALE_API_URL": bale.base_url,
            "RADYAR_BALE_FILE_URL": bale.base_file_url,
            "RADYAR_MLLP_PORT": "0",
            "RADYAR_HTTP_PORT": str(http_port),
        }
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                RADYAR, "run", env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        try:
            async with aiohttp.ClientSession() as session:
                await _healthy(session, f"http://127.0.0.1:{http_port}", process)
            telegram.create_user(9101, "Sara", phone_number="989120009101")
            bale.create_user(9102, "Reza", phone_number="989120009102")
            telegram.send_command(9101, "start")
            bale.send_command(9102, "start")
            on_telegram, on_bale = await _answered(telegram, 9101), await _answered(bale, 9102)
        finally:
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.wait_for(process.wait(), 30)
    logged = log_path.read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, logged[-3000:]
    assert on_telegram and on_telegram == on_bale  # the same welcome, on each platform
