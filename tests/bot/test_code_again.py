"""The button that sends the one-time code again, where a health worker registers a patient
and where a family member is added: not within the minute, then a new code that works."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot import family_steps as ask
from bot import registration_steps as steps
from bot.handlers import family as fam
from bot.health_worker import patients, register
from bot.keyboards import FAMILY
from clinic.identity_checks import WaitToResend, WrongCode
from clinic.text import to_persian_digits
from tests.bot.flows import register as register_self
from tests.bot.harness import assert_calm
from tests.bot.sms import code_sent
from tests.bot.test_health_worker_booking import worker_chat
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.bot.harness import Chat, Harness


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _again_then_the_new_code(chat: Chat, harness: Harness, mobile: str) -> None:
    first = await code_sent(harness.env, mobile)
    await chat.press_msgid(steps.CODE_AGAIN)
    assert chat.last_text() == chat._(WaitToResend.message)  # not within the minute
    harness.env.clock.advance(seconds=61)
    await chat.press_msgid(steps.CODE_AGAIN)
    assert chat.last_text() == chat._(steps.SENT_AGAIN)
    fresh = await code_sent(harness.env, mobile)
    if fresh != first:  # the old code is replaced by the new one
        await chat.say(first)
        assert chat.last_text().startswith(chat._(WrongCode.message).split("{")[0])
    await chat.say(to_persian_digits(fresh))


async def test_a_health_worker_has_the_code_sent_again(harness: Harness) -> None:
    chat = await worker_chat(harness, 8701)
    await chat.command("worker")
    await chat.press_msgid(patients.REGISTER)
    await chat.say(national_code(71))
    await chat.say("09130000071")
    assert chat.last_text() == chat._(register.CODE_SENT)
    await _again_then_the_new_code(chat, harness, "09130000071")
    assert chat.last_text().endswith(chat._(register.ASK_FIRST_NAME))


async def test_a_family_member_s_code_is_sent_again(harness: Harness) -> None:
    chat = harness.user(8702)
    await register_self(chat, 72, sex="female")
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(national_code(73))
    await chat.say("09120007373")
    assert chat.last_text() == chat._(ask.CODE_SENT)
    await _again_then_the_new_code(chat, harness, "09120007373")
    assert chat.last_text().endswith(chat._(ask.ASK_FIRST_NAME))
