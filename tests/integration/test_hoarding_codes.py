"""No hoarding: one tracking code per open referral, waitlist offers within the caps, races."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot
from clinic.errors import (
    ClinicError,
    Conflict,
    NotFound,
    OpenReferralForExam,
    TooManyFutureBookings,
    TrackingCodeInUse,
)
from clinic.i18n import translator
from clinic.jalali import TEHRAN
from clinic.models import Booking, Referral, WaitlistEntry
from clinic.open_referrals import withdraw_referral
from clinic.outbox import pending
from clinic.referrals import ReferralRequest, review_referral, submit_referral
from clinic.uow import UnitOfWork
from clinic.waitlist import join_waitlist
from tests.factories import (
    RECEPTION,
    add_patient,
    approved_referral,
    build_department,
    tracking_code,
)

if TYPE_CHECKING:
    from clinic.policy import Policy
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)
LATER = date(2026, 12, 14)
ANSWERS = {"pregnancy": False, "pacemaker": False}


def at(hh: int, mm: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _submit(uow: UnitOfWork, patient: int, exam_id: int, code: str) -> Referral:
    request = ReferralRequest(patient, exam_id, "tamin", ANSWERS, tracking_code=code)
    return await submit_referral(uow, Actor.patient(patient), request)


async def _book(uow: UnitOfWork, patient: int, referral: int, device: int, start: datetime) -> int:
    me = Actor.patient(patient)
    return (
        await confirm_booking(uow, me, (await hold_slot(uow, me, referral, device, start)).id)
    ).id


async def test_a_tracking_code_backs_one_open_referral_of_anyone(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b = await add_patient(uow, 0), await add_patient(uow, 1)
        first = await _submit(uow, a, dept.ct_brain.id, "12345678")
        await uow.commit()
        with pytest.raises(TrackingCodeInUse) as other_patient:
            await _submit(uow, b, dept.ct_brain.id, "۱۲۳۴-۵۶۷۸")  # Persian digits, a dash
        with pytest.raises(TrackingCodeInUse):
            await _submit(uow, a, dept.mri_knee.id, "12345678")  # the same patient, another exam
        await withdraw_referral(uow, Actor.patient(a), first.id)
        taken_over = await _submit(uow, b, dept.ct_brain.id, "12345678")  # closed: free again
        await uow.commit()
    assert taken_over.tracking_code == "12345678"
    message = str(other_patient.value)
    assert message.startswith("This e-prescription tracking code is already used")
    assert "please call the department" in message
    assert "کد رهگیری" in other_patient.value.render(translator("fa").gettext)


async def test_a_rejected_referral_gives_its_code_back(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b = await add_patient(uow, 0), await add_patient(uow, 1)
        wrong = await _submit(uow, a, dept.mri_knee.id, "ABCD1234")
        assert wrong.status == "submitted"
        await review_referral(uow, RECEPTION, wrong.id, approve=False, reason="کد نادرست")
        right = await _submit(uow, b, dept.mri_knee.id, "abcd1234")
        await uow.commit()
    assert right.tracking_code == "ABCD1234"


async def test_withdrawing_needs_the_appointment_cancelled_first(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b = await add_patient(uow, 0), await add_patient(uow, 1)
        referral = await approved_referral(uow, a, dept.ct_brain)
        booking = await _book(uow, a, referral, dept.ct.id, at(9))
        await uow.commit()
        with pytest.raises(NotFound):
            await withdraw_referral(uow, Actor.patient(b), referral)
        with pytest.raises(Conflict, match="cancel the appointment first"):
            await withdraw_referral(uow, Actor.patient(a), referral)
        await cancel_booking(uow, Actor.patient(a), booking)
        held = await hold_slot(uow, Actor.patient(a), referral, dept.ct.id, at(10))
        await withdraw_referral(uow, Actor.patient(a), referral)  # a mere hold is released
        await uow.commit()
        hold_now = await uow.session.get(Booking, held.id)
    assert hold_now is not None and hold_now.status == "cancelled"


async def test_a_waitlist_offer_stays_within_the_caps(env: ClinicEnv) -> None:
    one = replace(env.policy, max_future_bookings=1)
    async with env.uow(one) as uow:
        dept = await build_department(uow)
        full, other, early = [await add_patient(uow, n) for n in range(3)]
        # ``full`` waits for an earlier CT brain, but its booking of that was cancelled and
        # it now has an MRI: an offer would be a second upcoming appointment.
        brain = await approved_referral(uow, full, dept.ct_brain)
        cancelled = await _book(uow, full, brain, dept.ct.id, at(12, 0, LATER))
        await join_waitlist(uow, Actor.patient(full), brain, MONDAY + timedelta(days=3))
        await cancel_booking(uow, Actor.patient(full), cancelled)
        knee = await approved_referral(uow, full, dept.mri_knee)
        await _book(uow, full, knee, dept.mri.id, at(9, 0, LATER))
        env.clock.advance(minutes=1)
        # ``other`` waits too, later in line, with a booking the offer would replace.
        theirs = await approved_referral(uow, other, dept.ct_brain)
        await _book(uow, other, theirs, dept.ct.id, at(9, 0, LATER))
        await join_waitlist(uow, Actor.patient(other), theirs, MONDAY + timedelta(days=3))
        freed = await _book(
            uow, early, await approved_referral(uow, early, dept.ct_brain), dept.ct.id, at(9)
        )
        await uow.commit()
        await cancel_booking(uow, Actor.patient(early), freed)
        await uow.commit()
        offers = await pending(uow, kind="waitlist_offer")
    assert [o.recipient_id for o in offers] == [other]


async def test_withdrawing_ends_the_waitlist_entry(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        booking = await _book(uow, patient, referral, dept.ct.id, at(9, 0, LATER))
        entry = await join_waitlist(uow, Actor.patient(patient), referral, LATER)
        await cancel_booking(uow, Actor.patient(patient), booking)
        await withdraw_referral(uow, Actor.patient(patient), referral)
        await uow.commit()
        after = await uow.session.get(WaitlistEntry, entry.id)
    assert after is not None and after.status == "cancelled"


Attempt = Callable[[UnitOfWork], Awaitable[object]]


async def _race(env: ClinicEnv, policy: Policy, attempts: Sequence[Attempt]) -> list[str]:
    """Run each attempt in its own unit of work at once; the outcome of each, by error code."""

    async def one(attempt: Attempt) -> str:
        async with env.uow(policy) as uow:
            try:
                await attempt(uow)
            except ClinicError as error:
                return error.code
            await uow.commit()
            return "ok"

    return list(await asyncio.gather(*(one(a) for a in attempts)))


async def test_concurrent_submits_for_one_patient_pass_once(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        await uow.commit()
    codes = [tracking_code() for _ in range(6)]
    attempts = [lambda u, c=c: _submit(u, patient, dept.ct_brain.id, c) for c in codes]
    outcomes = await _race(env, env.policy, attempts)
    async with env.uow() as uow:
        kept = await uow.session.scalar(select(func.count()).select_from(Referral))
    assert sorted(outcomes) == ["ok"] + [OpenReferralForExam.code] * 5
    assert kept == 1


async def test_concurrent_holds_for_one_patient_pass_once(env: ClinicEnv) -> None:
    one = replace(env.policy, max_future_bookings=1)
    async with env.uow() as uow:
        dept = await build_department(uow, ct_places=5)
        patient = await add_patient(uow)
        brain = await approved_referral(uow, patient, dept.ct_brain)
        contrast = await approved_referral(uow, patient, dept.ct_contrast)
        knee = await approved_referral(uow, patient, dept.mri_knee)
        await uow.commit()
    me = Actor.patient(patient)
    attempts = [
        lambda u: hold_slot(u, me, brain, dept.ct.id, at(9)),
        lambda u: hold_slot(u, me, contrast, dept.ct.id, at(10)),
        lambda u: hold_slot(u, me, knee, dept.mri.id, at(9)),
    ]
    outcomes = await _race(env, one, attempts)
    async with env.uow() as uow:
        held = await uow.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == "held")
        )
    assert sorted(outcomes) == ["ok"] + [TooManyFutureBookings.code] * 2
    assert held == 1


async def test_concurrent_patients_with_one_tracking_code_get_it_once(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patients = [await add_patient(uow, n) for n in range(5)]
        await uow.commit()
    attempts = [lambda u, p=p: _submit(u, p, dept.ct_brain.id, "777888999") for p in patients]
    outcomes = await _race(env, env.policy, attempts)
    assert sorted(outcomes) == ["ok"] + [TrackingCodeInUse.code] * 4
