"""A restart in the middle of a booking keeps the draft; a re-delivered update is not acted on
twice; two patients pressing the last place at once: one gets it, the other is told kindly."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import confirm_booking, hold_slot
from clinic.errors import SlotFull
from clinic.models import Booking, Exam, Insurer, OutboxMessage, Referral
from clinic.patients import PatientDetails, register_patient
from clinic.referrals import ReferralRequest, submit_referral
from tests.bot.flows import register, request_exam
from tests.bot.harness import Chat, Harness, assert_calm
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"
CHEST = "رادیوگرافی قفسه سینه"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _count(harness: Harness, model: type[object], *where: object) -> int:
    async with harness.env.uow() as uow:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await uow.session.scalar(query) or 0)


async def test_a_restart_after_choosing_the_exam_and_after_holding_a_time(
    harness: Harness,
) -> None:
    chat = harness.user(5001)
    await register(chat, 0)
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    await harness.restart()
    await chat.say("123456789")  # the request remembers the exam
    assert chat.last_text() == chat._(req.ASK_INSURER)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    await harness.restart()
    await chat.press_msgid(booking.CONFIRM)  # the held time is still there, and its button
    assert chat.texts()[-1] == chat._(booking.ANYTHING_ELSE)
    async with harness.env.uow() as uow:
        (booked,) = list(await uow.session.scalars(select(Booking)))
        referral = await uow.session.scalar(select(Referral))
    assert booked.status == "confirmed"
    assert referral is not None
    assert (referral.tracking_code, referral.insurer) == ("123456789", "tamin")


async def test_an_update_delivered_again_is_not_acted_on_twice(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat = harness.user(5002)
    await register(chat, 1)
    await request_exam(chat, "CT", CT_BRAIN)
    code_message = harness.updates[-1]  # the tracking code, typed
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(booking.CONFIRM)
    confirm_press = harness.updates[-1]
    assert confirm_press.callback_query is not None
    sent = [(m.message_id, m.text, len(m.history)) for m in chat.bot_messages()]
    caplog.set_level(logging.INFO, logger="bot.handlers.common")
    await harness.redeliver(confirm_press)
    await harness.restart()  # the record of handled updates is in the database, not memory
    await harness.redeliver(confirm_press)
    await harness.redeliver(code_message)
    assert [(m.message_id, m.text, len(m.history)) for m in chat.bot_messages()] == sent
    assert await _count(harness, Referral) == 1
    assert await _count(harness, Booking) == 1
    assert await _count(harness, OutboxMessage, OutboxMessage.kind == "booking_confirmed") == 1
    skipped = [r for r in caplog.records if "already processed" in r.getMessage()]
    assert len(skipped) == 3


async def _fill_all_but_one(harness: Harness) -> tuple[datetime, int]:
    """Book every place at the chest X-ray's earliest time but one (through the use cases)."""
    async with harness.env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "XR-CHEST"))
        assert exam is not None
        first_day = (await bookable_days(uow, exam.id))[0].day
        times = await bookable_times(uow, exam.id, first_day)
        starts = times[0].starts_at
        devices = [t for t in times if t.starts_at == starts]
        places = {t.device_id: t.free for t in devices}
        exam_id = exam.id
    n = 20
    for device_id, free in places.items():
        leave = 1 if device_id == min(places) else 0
        for _ in range(free - leave):
            n += 1
            async with harness.env.uow() as uow:
                details = PatientDetails(
                    national_code(n), f"0912000{n:04d}", "ن", "م", 1360, "male"
                )
                patient = await register_patient(uow, Actor.system(), details, consent=True)
                me = Actor.patient(patient.id)
                request = ReferralRequest(
                    patient.id, exam_id, "tamin", {}, tracking_code=tracking_code()
                )
                referral = await submit_referral(uow, me, request)
                held = await hold_slot(uow, me, referral.id, device_id, starts)
                await confirm_booking(uow, me, held.id)
                await uow.commit()
    return starts, exam_id


async def _at_times(chat: Chat, n: int) -> None:
    await register(chat, n)
    await request_exam(chat, "CR", CHEST)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await chat.press(chat.buttons()[0])


async def _outcome(harness: Harness, starts: datetime) -> tuple[int, int]:
    """(held, held or confirmed) bookings at ``starts`` on any device."""
    held = await _count(harness, Booking, Booking.starts_at == starts, Booking.status == "held")
    active = Booking.status.in_(["held", "confirmed"])
    return held, await _count(harness, Booking, Booking.starts_at == starts, active)


async def test_two_patients_press_the_last_place_at_once(harness: Harness) -> None:
    starts, _ = await _fill_all_but_one(harness)
    first, second = harness.user(5003), harness.user(5004)
    await _at_times(first, 2)
    await _at_times(second, 3)
    label = first.buttons()[0]
    assert second.buttons()[0] == label  # both see the same earliest time, one place left
    _, used_before = await _outcome(harness, starts)
    first.fire_press(label)
    second.fire_press(label)
    await harness.settle()
    cards = [
        c
        for c in (first, second)
        if c.buttons() == [c._(booking.CONFIRM), c._(booking.OTHER_TIME)]
    ]
    taken = [c for c in (first, second) if c.last_text().startswith(c._(SlotFull.message))]
    assert len(cards) == 1
    assert len(taken) == 1
    assert label not in taken[0].buttons()  # the other times of that day are offered
    held, used = await _outcome(harness, starts)
    assert (held, used) == (1, used_before + 1)


async def test_the_last_place_under_truly_concurrent_processing(harness: Harness) -> None:
    """The same race with both presses handled at the same moment, not one after the other."""
    starts, _ = await _fill_all_but_one(harness)
    first, second = harness.user(5005), harness.user(5006)
    await _at_times(first, 4)
    await _at_times(second, 5)
    application = harness.application
    assert application is not None and application.updater is not None
    await application.updater.stop()
    sandbox = harness.sandbox
    for chat in (first, second):
        sandbox.press_button(chat.user_id, text=chat.buttons()[0])
    raw = sandbox.pending_updates()
    assert len(raw) == 2
    updates = [Update.de_json(u, application.bot) for u in raw]
    harness.expected += 2
    await asyncio.gather(*(application.process_update(u) for u in updates))
    await harness.settle()
    # Polling again fetches the same two updates (never confirmed): both are skipped.
    harness.expected += 2
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await harness.settle()
    held, _ = await _outcome(harness, starts)
    assert held == 1
    taken = [c for c in (first, second) if c.last_text().startswith(c._(SlotFull.message))]
    assert len(taken) == 1
