"""English end to end: a patient whose Telegram is in English registers and books in English
(Jalali dates with English month names, ASCII digits); a Persian patient switches to English."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.conversations import registration as reg
from bot.handlers import booking, common, info
from bot.keyboards import LANGUAGE, NEW_REQUEST
from clinic.models import Booking, Patient
from tests.bot.flows import register
from tests.bot.harness import Harness, assert_calm
from tests.bot.sms import code_sent

if TYPE_CHECKING:
    from collections.abc import Iterator

PERSIAN_DIGITS = re.compile("[۰-۹]")


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def test_registration_and_booking_in_english(harness: Harness) -> None:
    chat = harness.user(8001, lang="en")
    await chat.command("start")
    assert chat.last_text().startswith("Welcome to Radyar, the booking service of Medical Imaging")
    assert "I agree, share my number" in str(chat.last().markup)
    await chat.share_contact()
    assert chat.last_text() == "Thank you. Please write your 10-digit national code."
    await chat.say("1234567890")
    assert chat.last_text() == "The national code must be 10 digits with a valid check digit."
    await chat.say("0499370899")
    assert chat.last_text().startswith("To protect patients' records, we have sent a 5-digit")
    await chat.say(await code_sent(harness.env))  # the text message's one-time code
    await chat.say("Sara")
    await chat.say("Karimi")
    await chat.say("1370")
    assert chat.buttons() == ["Female", "Male"]
    await chat.press("Female")
    assert chat.last_text() == "Registration is complete, Sara. What would you like to do?"
    await chat.sticker()
    assert chat.last_text() == (
        "I did not understand that. Please use the buttons below, or send /cancel to start over."
    )
    await chat.say("🩻 New imaging request")
    assert chat.last_text() == "Which kind of imaging is on your referral?"
    await chat.press("CT scan")
    await chat.press("CT brain without contrast")
    assert chat.last_text() == "Are you pregnant, or could you be pregnant?"
    await chat.press("No")
    assert chat.last_text().startswith("Please type the e-prescription tracking code")
    await chat.say("123456789")
    await chat.press("Tamin Ejtemaei (social security)")
    assert chat.last_text() == "Please choose a day (the number of free places is in brackets):"
    first_day = chat.buttons()[0]
    assert re.fullmatch(r"(Sat|Sun|Mon|Tue|Wed|Thu|Fri) \d+ Azar \(\d+\)", first_day)
    await chat.press(first_day)
    assert chat.last_text().startswith("Please choose a time on ")
    assert re.fullmatch(r"\d\d:\d\d", chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    assert chat.buttons() == ["✅ Confirm", "🔁 Another time"]
    await chat.press("✅ Confirm")
    card = chat.bot_messages()[-3].text or ""  # then the .ics file, then "anything else?"
    async with harness.env.uow() as uow:
        booked = await uow.session.scalar(select(Booking))
        patient = await uow.session.scalar(select(Patient))
    assert booked is not None and patient is not None
    assert card.startswith("✅ Your appointment is booked.")
    for line in (
        "Exam: CT brain without contrast",
        "Place: CT scanner, 16-slice",
        "Ground floor, room 104",
        f"Booking code: {booked.code}",
        "Azar 1405",
    ):
        assert line in card
    assert not PERSIAN_DIGITS.search(card)
    assert chat.last_text() == "Is there anything else I can do for you?"
    assert "📅 My appointments" in str(chat.last().markup)
    assert patient.language == "en"
    assert not [t for t in chat.texts() if PERSIAN_DIGITS.search(t) and t != card]


async def test_a_persian_patient_switches_to_english(harness: Harness) -> None:
    chat = harness.user(8002)
    await register(chat, 1)
    await chat.tap(LANGUAGE)
    assert chat.last_text() == chat._(info.CHOOSE_LANGUAGE)
    await chat.press("English")
    assert chat.last_text() == "Done. From now on I will write to you in English."
    chat.lang = "en"
    assert chat._(NEW_REQUEST) in str(chat.last().markup)
    await chat.location()
    assert chat.last_text() == common.NOT_UNDERSTOOD
    await chat.command("start")
    assert chat.last_text() == reg.WELCOME_BACK.format(name="علی")
    await chat.tap(NEW_REQUEST)
    await chat.command("cancel")
    assert chat.last_text() == info.CANCELLED
    await chat.forge("days:ref:1:0")
    assert chat.last_text() == "We could not find that record."
    assert booking.CHOOSE_DAY not in chat.texts()
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
    assert patient is not None
    assert patient.language == "en"
