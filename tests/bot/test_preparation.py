"""Preparation instructions end to end: per booking at clock times, or any exam's by choice."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.handlers import preparation as prep
from bot.handlers.common import SORRY
from bot.keyboards import PREPARATION
from bot.views import MODALITY_NAMES
from clinic.errors import NotFound
from clinic.jalali import format_day_short, format_time, to_tehran
from tests.bot.flows import register
from tests.bot.test_appointments import registered_with_booking

if TYPE_CHECKING:
    from tests.bot.harness import Harness

US_ABDOMEN = "سونوگرافی شکم و لگن"


async def test_anyone_can_read_an_exams_preparation(harness: Harness) -> None:
    chat = harness.user(5001)
    await register(chat, 50)
    await chat.tap(PREPARATION)
    assert chat.last_text() == chat._(prep.CHOOSE_KIND)
    assert chat.buttons() == [chat._(label) for label in MODALITY_NAMES.values()]
    await chat.press_msgid(MODALITY_NAMES["US"])
    assert chat.last_text() == chat._(prep.CHOOSE_EXAM)
    await chat.press(US_ABDOMEN)
    text = chat.last_text()
    assert text.startswith(chat._(prep.FOR_EXAM).format(exam=US_ABDOMEN))
    assert "از ۶ ساعت پیش از سونوگرافی چیزی نخورید" in text
    assert "۶" in text.splitlines()[2].split(":")[0]  # "6 hours before", in Persian digits
    await chat.press_msgid(prep.BACK)
    assert chat.last_text() == chat._(prep.CHOOSE_KIND)


async def test_a_patients_bookings_come_first_with_clock_times(harness: Harness) -> None:
    chat = harness.user(5002)
    booking = await registered_with_booking(harness, chat, 51, modality="US", exam=US_ABDOMEN)
    await chat.tap(PREPARATION)
    *_, booking_text, ask = chat.texts()
    assert ask == chat._(prep.ANOTHER)
    assert US_ABDOMEN in booking_text.splitlines()[0]
    fasting_from = to_tehran(booking.starts_at - timedelta(hours=6))
    fasting = next(line for line in booking_text.splitlines() if "چیزی نخورید" in line)
    assert format_time(fasting_from, "fa") in fasting
    assert format_day_short(fasting_from.date(), "fa") in fasting
    await chat.press_msgid(prep.OTHER_EXAMS)
    assert chat.last_text() == chat._(prep.CHOOSE_KIND)


async def test_forged_exam_choices_are_answered_kindly(harness: Harness) -> None:
    chat = harness.user(5003)
    await register(chat, 52)
    await chat.tap(PREPARATION)
    await chat.forge("px:999999")
    assert chat.last_text() == NotFound().render(chat._, persian_digits=True)
    await chat.forge("px:99999999999999999999")
    await chat.forge("pm:XX")
    assert chat.last_text() == chat._(prep.CHOOSE_KIND)
    assert chat._(SORRY) not in chat.texts()


async def test_preparation_in_english(harness: Harness) -> None:
    chat = harness.user(5004, lang="en")
    await register(chat, 53)
    await chat.tap(PREPARATION)
    await chat.press("Ultrasound")
    await chat.press("Abdominal and pelvic ultrasound")
    lines = chat.last_text().splitlines()
    assert lines[0] == "Preparation for Abdominal and pelvic ultrasound:"
    assert "• 6 hours before: Nothing to eat" in lines[2]
    assert lines[3].startswith("• 1 hour before: ")
