"""Updates of different chats are handled at once; those of one chat strictly in arrival order."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.conversations import registration as reg
from clinic.models import Patient
from tests.bot.flows import register
from tests.bot.harness import Harness, assert_calm
from tests.bot.sms import code_sent
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

    from telegram import Update

    from bot.context import BotContext


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def test_a_patient_who_types_ahead_is_answered_in_order(harness: Harness) -> None:
    """The answers sent at once, before any reply (up to the SMS code, then from it on):
    each lands in its own step, in order."""
    chat = harness.user(8101)
    sandbox = harness.sandbox

    def type_ahead(*answers: str) -> None:
        for answer in answers:
            sandbox.send_text(chat.user_id, answer)

    def start() -> None:
        sandbox.send_command(chat.user_id, "start")
        sandbox.send_contact(chat.user_id)
        type_ahead(national_code(81))

    harness.fire(start, updates=3, user_id=chat.user_id)
    await harness.settle(chat.user_id)
    code = await code_sent(harness.env)
    harness.fire(
        lambda: type_ahead(code, "مریم", "احمدی", "۱۳۷۰"), updates=4, user_id=chat.user_id
    )
    await harness.settle(chat.user_id)
    asked = [
        reg.ASK_NATIONAL_CODE, reg.CODE_SENT, reg.ASK_FIRST_NAME, reg.ASK_LAST_NAME,
        reg.ASK_BIRTH_YEAR,
    ]  # fmt: skip
    assert chat.texts()[1:] == [chat._(m) for m in (*asked, reg.ASK_SEX)]
    await chat.press_msgid(reg.FEMALE)
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
    assert patient is not None
    assert (patient.first_name, patient.last_name, patient.birth_year) == ("مریم", "احمدی", 1370)


async def test_one_chat_held_up_does_not_hold_up_another(harness: Harness) -> None:
    """While one chat's update waits (a slow step), another patient registers from start to
    end; the waiting chat's next updates then follow in their order."""
    application = harness.application
    assert application is not None
    slow, other = harness.user(8201), harness.user(8202)
    release, started = asyncio.Event(), asyncio.Event()

    async def slow_step(_update: Update, _context: BotContext) -> None:
        started.set()
        await release.wait()
        raise ApplicationHandlerStop

    hold = MessageHandler(filters.Chat(slow.user_id) & filters.Regex("^slow$"), slow_step)
    application.add_handler(hold, group=-5)
    try:
        sandbox = harness.sandbox

        def slow_then_more() -> None:
            sandbox.send_text(slow.user_id, "slow")
            sandbox.send_command(slow.user_id, "start")
            sandbox.send_contact(slow.user_id)

        harness.fire(slow_then_more, updates=3, user_id=slow.user_id)
        await asyncio.wait_for(started.wait(), 10)
        await register(other, 82)
        assert other.texts()[-1] == other._(reg.DONE).format(name="علی")
        assert slow.texts() == []  # its /start waits behind the slow step
        release.set()
        await harness.settle(slow.user_id)
        assert slow.texts()[-1] == slow._(reg.ASK_NATIONAL_CODE)
    finally:
        release.set()
        application.remove_handler(hold, group=-5)


async def test_many_patients_at_once_each_get_their_own_answers(harness: Harness) -> None:
    """Twelve patients register at the same time; every record has its own name and code."""
    chats = [harness.user(8300 + n) for n in range(12)]
    await asyncio.gather(*(register(chat, 300 + n) for n, chat in enumerate(chats)))
    for chat in chats:
        assert chat.texts()[-1] == chat._(reg.DONE).format(name="علی")
    async with harness.env.uow() as uow:
        codes = set(await uow.session.scalars(select(Patient.national_code)))
    assert codes == {national_code(300 + n) for n in range(12)}
