"""Flood control: 429 with retry_after becomes PTB's RetryAfter; limits and clock are settable."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from telegram.error import RetryAfter

from sandbox.botapi import BotApiSandbox, RateLimits

if TYPE_CHECKING:
    from telegram import Bot

    from .conftest import FakeClock


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.2+ warns (PTBDeprecationWarning) when RetryAfter is built with int seconds unless
    # PTB_TIMEDELTA opts in to timedelta values; pytest turns that warning into an error.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_per_chat_limit_raises_retry_after(
    sandbox: BotApiSandbox, bot: Bot, clock: FakeClock
) -> None:
    sandbox.set_limits(RateLimits(overall_per_second=30, per_chat_per_second=1, per_chat_burst=1))
    sandbox.create_user(1001)
    sandbox.create_user(1002)
    await bot.send_message(1001, "one")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "two")
    assert caught.value.retry_after == dt.timedelta(seconds=1)
    await bot.send_message(1002, "other chat is fine")
    clock.advance(1.0)
    await bot.send_message(1001, "two, later")
    assert [m.text for m in sandbox.messages_to(1001)] == ["one", "two, later"]


async def test_overall_limit_and_edits_count(
    sandbox: BotApiSandbox, bot: Bot, clock: FakeClock
) -> None:
    sandbox.set_limits(RateLimits(overall_per_second=3, per_chat_per_second=0))
    for user_id in (1, 2, 3, 4):
        sandbox.create_user(user_id)
    first = await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    await bot.edit_message_text("a2", chat_id=1, message_id=first.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(4, "d")
    clock.advance(0.34)
    await bot.send_message(4, "d")


async def test_default_burst_allows_a_reply_and_an_edit(
    sandbox: BotApiSandbox, bot: Bot, clock: FakeClock
) -> None:
    sandbox.set_limits(RateLimits())
    sandbox.create_user(1001)
    sent = await bot.send_message(1001, "menu")
    await bot.edit_message_text("menu, chosen", chat_id=1001, message_id=sent.message_id)
    await bot.send_message(1001, "confirmation")
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "one too many")
    assert sandbox.request_counts()["sendMessage"] == 3


async def test_rejected_calls_do_not_use_up_the_limit(
    sandbox: BotApiSandbox, bot: Bot, clock: FakeClock
) -> None:
    from telegram.error import BadRequest

    sandbox.set_limits(RateLimits(per_chat_per_second=1, per_chat_burst=1))
    sandbox.create_user(1001)
    with pytest.raises(BadRequest):
        await bot.send_message(1001, " ")
    await bot.send_message(1001, "fine")
