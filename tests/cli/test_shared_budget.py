"""``radyar run`` and a ``radyar worker`` beside it share one send budget, on PostgreSQL and on
SQLite (one database file, two processes).

A broadcast goes out through both processes' workers while a patient talks to the bot, against
a Bot API sandbox enforcing Telegram's limits (30 messages a second, one a second per chat with
a burst of three). With the budget set to 25 a second, not one request is refused with 429:
the two processes together keep to it, and the patient is still answered.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic import migrate
from clinic.actors import Actor
from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
from clinic.clock import SystemClock
from clinic.db import make_engine, make_sessionmaker
from clinic.demo import seed_demo
from clinic.jalali import tehran_datetime, to_tehran
from clinic.models import Device, OutboxMessage
from clinic.policy import Policy
from clinic.uow import UnitOfWork
from sandbox.botapi import BotApiSandbox, RateLimits
from tests.bulk import add_booked_patients
from tests.conftest import create_pg_database, drop_pg_database, require_pg

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sandbox.botapi.world import Chat

pytestmark = pytest.mark.slow  # real radyar processes side by side

TOKEN = "565656:SHARED-BUDGET"
RECIPIENTS = 120
FIRST_USER = 830_000
PATIENT = 839_999
SCRIPT = str(Path(sys.executable).with_name("radyar"))
SENT = re.compile(r"outbox \d+ broadcast: sent")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _queue_broadcast(url: str) -> None:
    engine = make_engine(url)
    try:
        uow = UnitOfWork(make_sessionmaker(engine), SystemClock(), Policy())
        async with uow:
            await seed_demo(uow)
            day = to_tehran(uow.clock.now()).date() + timedelta(days=2)
            starts = tehran_datetime(day, datetime.min.time()) + timedelta(hours=10)
            await add_booked_patients(
                uow, RECIPIENTS, first=0, starts_at=starts, first_user=FIRST_USER
            )
            ct = await uow.session.scalar(select(Device.id).where(Device.code == "CT-1"))
            draft, count = await draft_broadcast(
                uow, Actor.system(), "دستگاه سی‌تی فردا از ساعت ۱۰ کار می‌کند.",
                Audience("device", ct, day, day),
            )  # fmt: skip
            assert count == RECIPIENTS
            await send_broadcast(uow, Actor.system(), draft.id)
            await uow.commit()
    finally:
        await engine.dispose()


async def _sent(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).where(OutboxMessage.status == "sent")
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


async def _talk(sandbox: BotApiSandbox, times: int) -> int:
    """The patient sends /start about once a second (a person's pace, within Telegram's per-chat
    limit), each after the answer; answers counted."""
    answered = 0
    for _ in range(times):
        want = len(sandbox.messages_to(PATIENT)) + 1

        def answered_now(chat: Chat, want: int = want) -> bool | None:
            return True if len(chat.bot_messages()) >= want else None

        sandbox.send_command(PATIENT, "start")
        await sandbox.wait_until(PATIENT, answered_now, timeout=30)
        answered += 1
        await asyncio.sleep(1.0)
    return answered


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each kind for the two processes."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    await require_pg()
    name = f"radyar_shared_budget_{os.getpid()}"
    yield await create_pg_database(name)
    await drop_pg_database(name)


async def test_run_and_a_worker_beside_it_keep_to_one_budget(
    database_url: str, tmp_path: Path
) -> None:
    url = database_url
    limits = RateLimits(overall_per_second=30, per_chat_per_second=1, per_chat_burst=3)
    await migrate.upgrade(url)
    await _queue_broadcast(url)
    async with BotApiSandbox([TOKEN], limits=limits) as sandbox:
        for n in range(RECIPIENTS):
            sandbox.create_user(FIRST_USER + n, "بیمار")
        sandbox.create_user(PATIENT, "بیمار", phone_number="989120000001")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")} | {
            "RADYAR_DATABASE_URL": url,
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_TELEGRAM_TOKEN": TOKEN,
            "RADYAR_BOT_API_URL": sandbox.base_url,
            "RADYAR_SEND_PER_SECOND": "25",
            "RADYAR_WORKER_BATCH": "10",
            "RADYAR_HTTP_PORT": str(_free_port()),
            "RADYAR_MLLP_PORT": "0",
            "RADYAR_SMS_PROVIDER": "log",
            "RADYAR_LOG_LEVEL": "INFO",
        }
        logs = [tmp_path / "run.log", tmp_path / "worker.log"]
        children = []
        for command, log in zip((["run"], ["worker"]), logs, strict=True):
            with log.open("wb") as out:
                children.append(
                    await asyncio.create_subprocess_exec(
                        SCRIPT, *command, env=env, stdout=out, stderr=out
                    )
                )
        try:
            answered = await _talk(sandbox, 8)
            for _ in range(600):
                if await _sent(url) == RECIPIENTS:
                    break
                await asyncio.sleep(0.1)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                await asyncio.wait_for(child.wait(), 30)
        assert await _sent(url) == RECIPIENTS
        assert answered == 8
        delivered = sum(len(sandbox.messages_to(FIRST_USER + n)) for n in range(RECIPIENTS))
        assert delivered == RECIPIENTS  # each once
        stored = delivered + len(sandbox.messages_to(PATIENT))
        # Every sendMessage the sandbox received was accepted: none was refused with 429.
        assert sandbox.request_counts()["sendMessage"] == stored
        per_process = [len(SENT.findall(log.read_text())) for log in logs]
        assert sum(per_process) == RECIPIENTS
        assert min(per_process) > 0, per_process  # both processes delivered a share
