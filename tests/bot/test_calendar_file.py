"""The confirmation's ``.ics`` file through the bot (issue 14, part 5): the patient receives it
after confirming, between the card and the menu; a move sends a new one that updates the same
event; a health worker's booking sends none (the patient hears by SMS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from clinic.department_setup import department_setup
from clinic.jalali import to_tehran
from tests.bot.harness import assert_calm
from tests.bot.test_appointments import FAR, bookings_of, open_details, registered_with_booking
from tests.bot.test_booking_flow import CT_BRAIN
from tests.bot.test_health_worker_booking import book_chest_xray, register_patient, worker_chat
from tests.ical import moment, number, parse_valid, text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from icalendar import Event

    from sandbox.botapi.world import StoredMessage
    from tests.bot.harness import Chat, Harness

HOSPITAL = "بیمارستان امام رضا (ع) بجنورد"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


def _documents(messages: list[StoredMessage]) -> list[StoredMessage]:
    return [m for m in messages if "document" in m.data]


def _event(harness: Harness, message: StoredMessage) -> Event:
    """The file the message carries, as the patient's phone would read it."""
    document = message.data["document"]
    stored = harness.sandbox.world.files.by_id(document["file_id"])
    assert stored is not None
    return parse_valid(stored.data)[1]


async def _move(chat: Chat) -> None:
    await open_details(chat)
    await chat.press_msgid(appt.MOVE)
    await chat.press(chat.buttons()[FAR + 2])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(bk.CONFIRM)


async def test_the_patient_gets_the_file_after_confirming_and_a_new_one_after_a_move(
    harness: Harness,
) -> None:
    chat = harness.user(5101)
    booking = await registered_with_booking(harness, chat, 40)
    card, sent, menu = chat.bot_messages()[-3:]
    assert card.text is not None and card.text.startswith("✅ ")
    assert sent.text == chat._(bk.CALENDAR) and menu.text == chat._(bk.ANYTHING_ELSE)
    (document,) = _documents(chat.bot_messages())
    assert document.data["document"]["file_name"] == f"radyar-{booking.code}.ics"
    assert document.data["document"]["mime_type"] == "text/calendar"
    event = _event(harness, document)
    assert moment(event, "DTSTART") == to_tehran(booking.starts_at)
    assert text(event, "SUMMARY") == f"{CT_BRAIN} — {HOSPITAL}"
    async with harness.env.uow() as uow:
        device = (await department_setup(uow)).devices[booking.device_id]
    assert device.room and device.room in text(event, "LOCATION")
    assert number(event, "SEQUENCE") == 0

    await _move(chat)
    old, new = await bookings_of(harness, chat)
    assert (old.status, new.status) == ("rescheduled", "confirmed")
    _, second = _documents(chat.bot_messages())
    assert second.data["document"]["file_name"] == f"radyar-{new.code}.ics"
    moved = _event(harness, second)
    assert text(moved, "UID") == text(event, "UID")  # the calendar updates, not adds
    assert number(moved, "SEQUENCE") == 1
    assert moment(moved, "DTSTART") == to_tehran(new.starts_at)


async def test_a_health_workers_booking_sends_no_file(harness: Harness) -> None:
    worker = await worker_chat(harness, 5102)
    await register_patient(worker, 64)
    await book_chest_xray(worker)
    assert worker.last_text().startswith("✅ ")
    assert _documents(harness.bot_messages()) == []
