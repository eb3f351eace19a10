"""The bot's replies and the notifier's sends for one token keep to the platform's limits
together: a "retry after" the platform answers a reply with is waited out, and a notice to the
same chat through the same budget waits too instead of being refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from telegram import Bot

from bot.conversations import registration as reg
from clinic.demo import seed_demo
from clinic.identity_checks import CODE_FORMAT
from notifier.budget import Priority
from notifier.channels import ChatChannel
from sandbox.botapi import RateLimits
from tests.bot.harness import TOKEN, Harness, assert_calm, running
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

TELEGRAM = RateLimits()  # 30 a second, one a second per chat after a burst of three


@pytest.fixture
async def strict(sqlite_env: ClinicEnv, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot against a sandbox that enforces Telegram's documented limits."""
    async with sqlite_env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    async with running(sqlite_env, tmp_path / "files", limits=TELEGRAM) as started:
        yield started


async def test_a_refused_reply_is_sent_after_the_wait_and_a_notice_waits_too(
    strict: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat = strict.user(8601)
    sandbox, uid = strict.sandbox, chat.user_id

    def four_at_once() -> None:  # four answers at once: one more than the burst
        sandbox.send_command(uid, "start")
        sandbox.send_contact(uid)
        sandbox.send_text(uid, national_code(86))
        sandbox.send_text(uid, "سارا")

    strict.fire(four_at_once, updates=4, user_id=uid)
    await strict.settle(uid)
    asked = [reg.ASK_NATIONAL_CODE, reg.CODE_SENT, CODE_FORMAT]  # the SMS code is due, not a name
    assert chat.texts()[1:] == [chat._(m) for m in asked]  # the fourth after waiting
    assert sandbox.request_counts()["sendMessage"] == 5  # refused once with 429, then sent
    bot = Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    async with bot:
        channel = ChatChannel("telegram", bot, strict.budget)
        await channel.send(uid, "یادآوری نوبت", priority=Priority.NOTICE)
    assert chat.texts()[-1] == "یادآوری نوبت"
    assert sandbox.request_counts()["sendMessage"] == 6  # the notice was not refused
    assert_calm(strict, caplog)
