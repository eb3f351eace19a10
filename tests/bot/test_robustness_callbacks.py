"""Forged, stale and doubled button presses: answered softly, never another patient's data,
never a second booking or a duplicate message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.conversations import request as req
from bot.handlers import booking
from clinic.errors import HoldExpired, NotFound
from clinic.models import Booking, Insurer, OutboxMessage, Referral
from clinic.text import to_persian_digits
from tests.bot.flows import book_first_free, register, request_exam
from tests.bot.harness import Chat, Harness, assert_calm

if TYPE_CHECKING:
    from collections.abc import Iterator

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"
CHEST = "رادیوگرافی قفسه سینه"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _at_days(chat: Chat, n: int, exam: str = CT_BRAIN, modality: str = "CT") -> None:
    await register(chat, n)
    await request_exam(chat, modality, exam)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    assert chat.last_text() == chat._(booking.CHOOSE_DAY)


async def _bookings(harness: Harness, patient_id: int | None = None) -> list[Booking]:
    async with harness.env.uow() as uow:
        query = select(Booking).order_by(Booking.id)
        if patient_id is not None:
            query = query.where(Booking.patient_id == patient_id)
        return list(await uow.session.scalars(query))


async def test_forged_presses_never_touch_or_show_another_patients_records(
    harness: Harness,
) -> None:
    victim = harness.user(4001)
    await _at_days(victim, 0, CHEST, "CR")
    await book_first_free(victim)
    (theirs,) = await _bookings(harness)
    attacker = harness.user(4002)
    await _at_days(attacker, 1)
    async with harness.env.uow() as uow:
        mine = await uow.session.scalar(
            select(Referral.id).where(Referral.patient_id != theirs.patient_id)
        )
    day = f"{theirs.starts_at:%Y%m%d}"
    moment = "202612011000"
    forged = [
        "zzz",
        "::",
        "day",
        "ok:-1",
        "ok:abc",
        "x" * 100,  # longer than Telegram allows
        "days:ref:99999999999999999999:0",
        "ok:99999999999",
        f"days:ref:{theirs.referral_id}:0",
        f"day:ref:{theirs.referral_id}:{day}",
        f"hold:ref:{theirs.referral_id}:{theirs.device_id}:{moment}",
        f"ok:{theirs.id}",
        f"days:bk:{theirs.id}:0",
        f"day:bk:{theirs.id}:{day}",
        f"hold:bk:{theirs.id}:{theirs.device_id}:{moment}",
        f"day:ref:{mine}:99999999",
        f"day:ref:{mine}:00010101",
        f"hold:ref:{mine}:1:000101010000",
        f"hold:ref:{mine}:99999:{moment}",
        f"hold:ref:{mine}:{theirs.device_id}:209912312359",
        "lang:xx",
        "sex:female",
        "mod:ZZ",
        "exam:99999999999",
        "scr:1:1",
        "ins:nobody",
    ]
    victim_saw = len(victim.bot_messages())
    message_id = attacker.last().message_id
    queries, seen = [], []
    for data in forged:
        queries.append(attacker.fire_forge(data, message_id))
        await harness.settle()
        seen.append(attacker.last_text())  # the pressed message is edited in place
    assert all(harness.sandbox.callback_answer(q) is not None for q in queries)
    assert len(victim.bot_messages()) == victim_saw
    after = await _bookings(harness, theirs.patient_id)
    assert [(b.id, b.status, b.starts_at) for b in after] == [
        (theirs.id, "confirmed", theirs.starts_at)
    ]
    # A forged device with a real time may hold that time on the attacker's own referral.
    assert {b.referral_id for b in await _bookings(harness) if b.id != theirs.id} <= {mine}
    shown = "\n".join(attacker.texts() + seen)
    assert theirs.code not in shown
    assert to_persian_digits(theirs.code) not in shown
    assert CHEST not in shown
    assert attacker._(NotFound.message) in shown  # someone else's record is simply not found


async def test_confirm_pressed_twice_books_once_and_says_nothing_twice(harness: Harness) -> None:
    chat = harness.user(4003)
    await _at_days(chat, 2)
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    before = len(chat.bot_messages())
    chat.fire_press(chat._(booking.CONFIRM))
    second = chat.fire_press(chat._(booking.CONFIRM))
    await harness.settle()
    answer = harness.sandbox.callback_answer(second) or {}
    assert answer.get("text") == chat._(booking.ALREADY_BOOKED)
    # The card edited, one .ics file, one "anything else?".
    assert len(chat.bot_messages()) == before + 2
    assert chat.texts()[-1] == chat._(booking.ANYTHING_ELSE)
    (booked,) = await _bookings(harness)
    assert booked.status == "confirmed"
    async with harness.env.uow() as uow:
        confirmations = await uow.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "booking_confirmed")
        )
    assert confirmations == 1


async def test_the_same_day_or_time_pressed_twice(harness: Harness) -> None:
    chat = harness.user(4004)
    await _at_days(chat, 3)
    before = len(chat.bot_messages())
    first_day = chat.buttons()[0]
    chat.fire_press(first_day)
    chat.fire_press(first_day)
    await harness.settle()
    assert len(chat.bot_messages()) == before  # edited in place, once
    assert chat.last_text().startswith(chat._(booking.CHOOSE_TIME).split("{")[0])
    first_time = chat.buttons()[0]
    chat.fire_press(first_time)
    chat.fire_press(first_time)
    await harness.settle()
    assert len(chat.bot_messages()) == before
    held = [b for b in await _bookings(harness) if b.status == "held"]
    assert len(held) == 1  # the second press replaced the first hold, not added one
    await chat.press_msgid(booking.CONFIRM)
    assert [b.status for b in await _bookings(harness) if b.status != "cancelled"] == ["confirmed"]


async def test_an_old_hold_or_an_expired_one_is_explained(harness: Harness) -> None:
    chat = harness.user(4005)
    await _at_days(chat, 4)
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    (first,) = await _bookings(harness)
    await chat.press_msgid(booking.OTHER_TIME)
    await chat.press(chat.buttons()[1])
    await chat.press(chat.buttons()[0])
    await chat.forge(f"ok:{first.id}")  # the first card's confirm, replaced since
    assert chat.last_text() == chat._("This action is no longer possible.")
    await chat.press_msgid(booking.OTHER_TIME)
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    harness.env.clock.advance(minutes=harness.env.policy.hold_minutes + 1)
    await chat.press_msgid(booking.CONFIRM)
    expired = HoldExpired(minutes=harness.env.policy.hold_minutes)
    assert chat.last_text() == expired.render(chat._, persian_digits=True)
    await chat.press_msgid(booking.OTHER_TIME)
    assert chat.last_text() == chat._(booking.CHOOSE_DAY)
    assert "confirmed" not in [b.status for b in await _bookings(harness)]
