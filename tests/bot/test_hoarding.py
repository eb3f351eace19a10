"""No hoarding through the patient bot: refusals that say why and what to do, at the cap only."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.conversations import request as req
from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from bot.handlers import open_requests as rq
from bot.handlers.common import NOT_UNDERSTOOD
from bot.keyboards import MY_APPOINTMENTS, NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.actors import Actor
from clinic.daylist import check_in, complete
from clinic.errors import (
    Conflict,
    OpenReferralForExam,
    TooManyFutureBookings,
    TooManyOpenReferrals,
    TrackingCodeInUse,
)
from clinic.models import Booking, Insurer, Referral
from tests.bot.flows import register, request_exam
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.test_appointments import book, bookings_of, open_details, patient_of
from tests.bot.test_booking_flow import CT_BRAIN
from tests.factories import tracking_code

if TYPE_CHECKING:
    from collections.abc import Iterator

CR_CHEST = "رادیوگرافی قفسه سینه"
MR_KNEE = "ام‌آر‌آی زانو"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _booked_ct(chat: Chat, n: int) -> None:
    await register(chat, n)
    await request_exam(chat, "CT", CT_BRAIN)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await book(chat)


async def _counts(harness: Harness, chat: Chat) -> tuple[int, list[str]]:
    pid = await patient_of(harness, chat)
    async with harness.env.uow() as uow:
        referrals = await uow.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.patient_id == pid)
        )
    return int(referrals or 0), [b.status for b in await bookings_of(harness, chat)]


async def test_invented_tracking_codes_get_no_second_ct_place(harness: Harness) -> None:
    chat = harness.user(9101)
    await _booked_ct(chat, 70)
    refusal = OpenReferralForExam().render(chat._, persian_digits=True)
    for _ in range(5):  # the attack: again and again, each time with a made-up code
        await chat.tap(NEW_REQUEST)
        await chat.press_msgid(MODALITY_NAMES["CT"])
        await chat.press(CT_BRAIN)
        # Refused at once, before any question or prescription, with the way to see it.
        assert chat.last_text() == refusal
        assert "نوبت‌های من" in refusal
        assert chat.buttons() == [chat._(req.TO_APPOINTMENTS)]
        await chat.say(tracking_code())  # typed anyway: not taken for a request
        assert chat.last_text() == chat._(NOT_UNDERSTOOD)
    await chat.press_msgid(req.TO_APPOINTMENTS)
    assert chat.bot_messages()[-2].text == chat._(appt.LIST)  # the refusal became the list
    assert await _counts(harness, chat) == (1, ["confirmed"])


async def test_the_fourth_request_is_refused_before_any_question(harness: Harness) -> None:
    chat = harness.user(9102)
    await _booked_ct(chat, 71)
    await request_exam(chat, "CR", CR_CHEST)
    await book(chat)
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["MR"])
    await chat.press(MR_KNEE)
    while chat.buttons() == [chat._(req.YES), chat._(req.NO)]:
        await chat.press_msgid(req.NO)
    await chat.say(tracking_code())
    assert chat.last_text() == chat._(req.WAIT_REVIEW)  # waiting for review: open too
    await chat.tap(NEW_REQUEST)
    assert chat.last_text() == TooManyOpenReferrals(count=3).render(chat._, persian_digits=True)
    assert "۳" in chat.last_text()
    # My appointments shows what counts: two appointments and the request under review.
    await chat.tap(MY_APPOINTMENTS)
    assert chat.buttons()[2] == f"📝 {MR_KNEE} · {chat._(rq.WAITING_REVIEW)}"
    # A reschedule at the cap still works: it replaces the booking, it does not add one.
    await open_details(chat)
    await chat.press_msgid(appt.MOVE)
    await book(chat, day=4)
    assert await _counts(harness, chat) == (3, ["rescheduled", "confirmed", "confirmed"])


async def test_a_hold_past_the_booking_cap_points_to_my_appointments(harness: Harness) -> None:
    harness.env.policy = replace(harness.env.policy, max_future_bookings=1)
    chat = harness.user(9103)
    await _booked_ct(chat, 72)
    await request_exam(chat, "CR", CR_CHEST)
    await chat.press(chat.buttons()[2])
    await chat.press(chat.buttons()[0])
    assert chat.last_text() == TooManyFutureBookings(count=1).render(chat._, persian_digits=True)
    assert chat.buttons() == [chat._(bk.TO_APPOINTMENTS)]
    assert await _counts(harness, chat) == (2, ["confirmed"])


async def test_cancelling_then_withdrawing_frees_the_exam(harness: Harness) -> None:
    chat = harness.user(9104)
    await _booked_ct(chat, 73)
    await open_details(chat)
    await chat.press_msgid(appt.CANCEL)
    await chat.press_msgid(appt.YES_CANCEL)
    await chat.press_msgid(rq.CANCEL_REQUEST)
    assert chat.last_text() == chat._(rq.SURE).format(exam=CT_BRAIN)
    await chat.press_msgid(rq.NO_KEEP)  # changed mind: the request's card, with a time to pick
    assert chat.buttons()[0] == chat._(rq.CHOOSE_TIME)
    await chat.press_msgid(rq.CANCEL_REQUEST)
    await chat.press_msgid(rq.YES_CANCEL)
    assert chat.last_text() == chat._(rq.CANCELLED).format(exam=CT_BRAIN)
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.NONE_YET)
    # A new request for the same exam is taken; so soon after the last it goes to staff first.
    await request_exam(chat, "CT", CT_BRAIN)
    assert chat.last_text() == chat._(req.WAIT_REVIEW)


async def test_a_completed_exam_frees_the_exam(harness: Harness) -> None:
    chat = harness.user(9105)
    await _booked_ct(chat, 74)
    [booking] = await bookings_of(harness, chat)
    harness.env.clock.set(booking.starts_at)
    async with harness.env.uow() as uow:
        await check_in(uow, Actor.system(), booking.id)
        await complete(uow, Actor.system(), booking.id)
        await uow.commit()
    harness.env.clock.advance(days=8)
    await request_exam(chat, "CT", CT_BRAIN)
    assert chat.last_text() == chat._(bk.CHOOSE_DAY)


async def test_a_tracking_code_in_use_is_refused_and_nothing_is_lost(harness: Harness) -> None:
    first, second = harness.user(9106), harness.user(9107)
    code = tracking_code()
    await register(first, 75)
    await request_exam(first, "CT", CT_BRAIN, code)
    await first.press_msgid(req.INSURERS[Insurer.TAMIN])
    await register(second, 76)
    await request_exam(second, "CT", CT_BRAIN, code)
    await second.press_msgid(req.INSURERS[Insurer.SALAMAT])
    refusal = TrackingCodeInUse().render(second._, persian_digits=True)
    assert second.last_text() == f"{refusal}\n\n{second._(req.ASK_SOURCE)}"
    await second.say(tracking_code())  # the right code: the request goes on from there
    assert second.last_text() == second._(bk.CHOOSE_DAY)
    async with harness.env.uow() as uow:
        kept = list(await uow.session.scalars(select(Referral).order_by(Referral.id)))
    assert [r.insurer for r in kept] == ["tamin", "salamat"]
    assert kept[0].tracking_code == code != kept[1].tracking_code


async def test_an_expired_hold_frees_the_place_but_not_the_request(harness: Harness) -> None:
    chat = harness.user(9108)
    await register(chat, 77)
    await request_exam(chat, "CT", CT_BRAIN)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await chat.press(chat.buttons()[2])
    await chat.press(chat.buttons()[0])  # held, never confirmed
    harness.env.clock.advance(minutes=harness.env.policy.hold_minutes + 1)
    await chat.tap(MY_APPOINTMENTS)
    [label] = chat.buttons()
    assert label == f"📝 {CT_BRAIN} · {chat._(rq.NO_TIME)}"
    await chat.press(label)
    await chat.press_msgid(rq.CHOOSE_TIME)
    await book(chat)
    async with harness.env.uow() as uow:
        bookings = list(await uow.session.scalars(select(Booking).order_by(Booking.id)))
    assert [b.status for b in bookings] == ["expired", "confirmed"]
    await chat.forge(f"rq:{bookings[0].referral_id}")  # the request's old card: booked since
    assert chat.last_text() == chat._(Conflict.message)
