"""A new patient registers in Persian in at most six answers; bad input is answered kindly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.conversations import registration as reg
from bot.keyboards import NEW_REQUEST
from clinic.models import ChatAccount, Patient

if TYPE_CHECKING:
    from tests.bot.harness import Harness


async def test_a_new_patient_registers_in_six_answers(harness: Harness) -> None:
    chat = harness.user(1001)
    await chat.command("start")
    assert chat.last().markup is not None  # the privacy notice with the share-contact button
    chat.actions = 0  # opening the bot is not part of registration
    await chat.share_contact()
    assert chat.last_text() == chat._(reg.ASK_NATIONAL_CODE)
    await chat.say("۰۴۹۹۳۷۰۸۹۹")
    await chat.say("فاطمه")
    await chat.say("كريمي")
    await chat.say("۱۳۷۰")
    await chat.press_msgid(reg.FEMALE)
    assert chat.actions <= 6
    assert chat._(NEW_REQUEST) in str(chat.last().markup)
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
        account = await uow.session.scalar(select(ChatAccount))
    assert patient is not None
    assert account is not None
    assert (patient.national_code, patient.mobile, patient.last_name, patient.sex) == (
        "0499370899",
        "09120001001",
        "کریمی",
        "female",
    )
    assert (account.user_id, account.patient_id) == (1001, patient.id)


async def test_invalid_national_code_is_explained_and_asked_again(harness: Harness) -> None:
    chat = harness.user(1002)
    await chat.command("start")
    await chat.share_contact()
    await chat.say("1234567890")
    assert "۱۰" in chat.last_text() or "10" in chat.last_text()
    await chat.say("0790419904")
    assert chat.last_text() == chat._(reg.ASK_FIRST_NAME)


async def test_only_the_senders_own_contact_is_accepted(harness: Harness) -> None:
    chat = harness.user(1003)
    await chat.command("start")
    await chat.share_contact("989350000000", own=False)
    assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)
    await chat.say("09121234567")  # typing the number is not verifying it
    assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)


async def test_a_returning_patient_goes_straight_to_the_menu(harness: Harness) -> None:
    chat = harness.user(1004)
    await chat.command("start")
    await chat.share_contact()
    for answer in ("0084575948", "علی", "رضایی", "1360"):
        await chat.say(answer)
    await chat.press_msgid(reg.MALE)
    await chat.command("start")
    assert chat.last_text() == chat._(reg.WELCOME_BACK).format(name="علی")


async def test_registration_survives_a_restart(harness: Harness) -> None:
    chat = harness.user(1005)
    await chat.command("start")
    await chat.share_contact()
    await chat.say("0963695398")
    await harness.restart()
    await chat.say("مریم")
    assert chat.last_text() == chat._(reg.ASK_LAST_NAME)
