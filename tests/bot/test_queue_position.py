"""Where am I in the queue, through the bot (issue 14, part 5): the button appears on the
appointment's card on its day once reception has admitted the patient, answers with a count
and a rough wait and nothing of anyone else, and a forged or early press is answered kindly."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot import routes
from bot.handlers import queue_place as qp
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.i18n import translator
from clinic.jalali import format_time
from clinic.models import Exam, Insurer
from clinic.queue_position import NotInQueue
from clinic.text import to_persian_digits
from tests.bot.flows import register, req, request_exam
from tests.bot.harness import assert_calm
from tests.bot.test_appointments import FAR, book, bookings_of, open_details
from tests.bot.test_booking_flow import CT_BRAIN
from tests.factories import RECEPTION, add_patient, approved_referral

if TYPE_CHECKING:
    from collections.abc import Iterator

    from clinic.models import Booking
    from tests.bot.harness import Chat, Harness

OTHER = 70  # the patient ahead: booked and admitted at the desk, not in the bot


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _booked(harness: Harness, chat: Chat, n: int) -> Booking:
    """Patient ``n`` registers and books a CT in the bot, the second time of a later day (the
    first is left for the patient ahead)."""
    await register(chat, n)
    await request_exam(chat, "CT", CT_BRAIN)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await book(chat, FAR, 1)
    return (await bookings_of(harness, chat))[-1]


async def _booked_before(harness: Harness, mine: Booking) -> Booking:
    """Another patient on the same device, the slot before ``mine``."""
    async with harness.env.uow() as uow:
        device = (await department_setup(uow)).devices[mine.device_id]
        patient = await add_patient(uow, OTHER)
        me = Actor.patient(patient)
        exam = await uow.session.get(Exam, mine.exam_id)
        assert exam is not None
        referral = await approved_referral(uow, patient, exam)
        starts = mine.starts_at - timedelta(minutes=device.slot_minutes)
        hold = await hold_slot(uow, me, referral, mine.device_id, starts)
        booking = await confirm_booking(uow, me, hold.id)
        await uow.commit()
    return booking


async def _admit(harness: Harness, *bookings: Booking) -> None:
    async with harness.env.uow() as uow:
        for booking in bookings:
            await check_in(uow, RECEPTION, booking.id)
        await uow.commit()


async def test_the_button_appears_once_admitted_and_counts_who_is_ahead(
    harness: Harness,
) -> None:
    chat = harness.user(5201)
    mine = await _booked(harness, chat, 41)
    other = await _booked_before(harness, mine)
    await open_details(chat)
    assert chat._(qp.ASK) not in chat.buttons()  # not admitted, and not the day yet

    harness.env.clock.set(mine.starts_at - timedelta(minutes=40))
    await _admit(harness, mine)
    await open_details(chat)
    assert chat.buttons()[0] == chat._(qp.ASK)
    await chat.press_msgid(qp.ASK)
    async with harness.env.uow() as uow:
        device = (await department_setup(uow)).devices[mine.device_id]
    now = harness.env.clock.now()
    assert chat.last_text().split("\n")[:2] == [
        chat._(qp.AS_OF).format(device=device.name_fa, time=format_time(now, "fa")),
        chat._(qp.NEXT).format(room=device.room),
    ]  # the one before has not come: nobody admitted is ahead
    assert chat.buttons() == [chat._(qp.AGAIN), chat._(qp.TO_APPOINTMENT)]

    harness.env.clock.advance(minutes=5)
    await _admit(harness, other)  # the earlier slot comes later, and still goes first
    await chat.press_msgid(qp.AGAIN)
    answer = chat.last_text()
    fa = translator("fa")
    ahead = "{n} admitted patient is ahead of you.", "{n} admitted patients are ahead of you."
    wait = "A rough wait: about {n} minute.", "A rough wait: about {n} minutes."
    minutes = device.slot_minutes // device.places_per_slot
    assert answer.split("\n")[1:3] == [
        fa.ngettext(*ahead, 1).format(n="۱"),
        fa.ngettext(*wait, minutes).format(n=to_persian_digits(str(minutes))),
    ]
    assert "رضایی" not in answer and "علی" not in answer  # nobody's name, not even their own
    assert other.code not in answer and to_persian_digits(other.code) not in answer
    await chat.press_msgid(qp.TO_APPOINTMENT)
    assert chat.buttons()[0] == chat._(qp.ASK)

    harness.env.clock.set(mine.starts_at + timedelta(days=1))  # the next day: no button
    await open_details(chat)
    assert chat._(qp.ASK) not in chat.buttons()


async def test_a_forged_or_early_press_is_answered_kindly(harness: Harness) -> None:
    chat = harness.user(5202)
    mine = await _booked(harness, chat, 42)
    other = await _booked_before(harness, mine)
    await chat.forge(routes.QUEUE_PLACE(mine.id))  # before the day and before admission
    assert chat.last_text() == chat._(NotInQueue.message)
    harness.env.clock.set(mine.starts_at - timedelta(minutes=30))
    await _admit(harness, mine, other)
    await chat.forge(routes.QUEUE_PLACE(other.id))  # someone else's booking: not found
    assert chat.last_text() == chat._(NotFound.message)
    await chat.forge(routes.QUEUE_PLACE(mine.id))
    assert chat.last_text().startswith(chat._(qp.AS_OF).split("{")[0])
