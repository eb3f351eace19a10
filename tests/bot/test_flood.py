"""Flood control through the real bot: a flooding account gets one kind notice, then silence
until it calms down, and nobody else is slowed; staff have a higher limit, not none."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.conversations import registration as reg
from bot.flood import FloodLimits
from bot.handlers.common import SLOW_DOWN, START_FIRST
from clinic.demo import seed_demo
from clinic.models import ProcessedUpdate
from tests.bot.flows import register
from tests.bot.harness import Chat, Harness, running
from tests.bot.test_staff_reception import staff_chat

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

LIMITS = FloodLimits(updates=10, staff_updates=40, window=1.0, quiet=1.0)


@pytest.fixture
async def flooded(sqlite_env: ClinicEnv, tmp_path: Path) -> AsyncIterator[Harness]:
    """The demo department and a bot with small flood limits (ten updates, one second)."""
    async with sqlite_env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    async with running(sqlite_env, tmp_path / "files", flood=LIMITS) as started:
        yield started


async def _flood(harness: Harness, chat: Chat, count: int) -> None:
    """Send ``count`` texts at once and wait for the notice; the dropped ones never reach a
    handler, so the harness is told how many were served."""
    for n in range(count):
        harness.sandbox.send_text(chat.user_id, f"پیام {n}")
    notice = chat._(SLOW_DOWN)
    await harness.sandbox.wait_until(chat.user_id, lambda _c: notice in chat.texts() or None)
    await asyncio.sleep(0.2)  # the served ones finish
    harness.expected_by[chat.user_id] = harness.processed_by[chat.user_id]


async def test_a_flood_gets_one_notice_and_nobody_else_waits(flooded: Harness) -> None:
    spammer, patient = flooded.user(8401), flooded.user(8402)
    registering = asyncio.create_task(register(patient, 84))
    await _flood(flooded, spammer, 80)
    await registering
    assert patient.texts()[-1] == patient._(reg.DONE).format(name="علی")
    texts = spammer.texts()
    assert texts.count(spammer._(SLOW_DOWN)) == 1
    assert texts.count(spammer._(START_FIRST)) <= 11  # the burst, plus what refilled meanwhile
    async with flooded.env.uow() as uow:  # the dropped updates cost no database work
        recorded = await uow.session.scalar(select(func.count()).select_from(ProcessedUpdate))
    assert recorded is not None and recorded < 40


async def test_a_flooding_account_is_served_again_once_it_is_quiet(flooded: Harness) -> None:
    spammer = flooded.user(8403)
    await _flood(flooded, spammer, 30)
    await asyncio.sleep(LIMITS.quiet + 0.3)
    await spammer.command("start")
    assert spammer.last_text().startswith(spammer._(reg.WELCOME)[:20])


async def test_staff_have_a_higher_limit(flooded: Harness) -> None:
    member, _ = await staff_chat(flooded, 8404, "reception")
    await member.command("staff")  # the bot learns the role
    sandbox = flooded.sandbox
    flooded.fire(
        lambda: [sandbox.send_command(member.user_id, "staff") for _ in range(30)],
        updates=30,
        user_id=member.user_id,
    )
    await flooded.settle(member.user_id)
    assert member._(SLOW_DOWN) not in member.texts()
    patient = flooded.user(8405)
    await _flood(flooded, patient, 30)
    assert patient.texts().count(patient._(SLOW_DOWN)) == 1
