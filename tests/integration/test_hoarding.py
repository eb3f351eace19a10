"""No hoarding: one patient's open referrals and future bookings are capped, per exam and all."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.closures import ClosureRequest, close
from clinic.daylist import check_in, complete, mark_no_show
from clinic.errors import (
    BookingForExam,
    Conflict,
    OpenReferralForExam,
    TooManyFutureBookings,
    TooManyOpenReferrals,
)
from clinic.i18n import translator
from clinic.jalali import TEHRAN
from clinic.models import Booking, Referral
from clinic.open_referrals import check_may_request, unbooked_referrals, withdraw_referral
from clinic.referrals import ReferralRequest, submit_referral
from tests.factories import (
    ADMIN,
    RECEPTION,
    Department,
    add_patient,
    approved_referral,
    build_department,
    tracking_code,
    worker_proof,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


def at(hh: int, mm: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _submit(
    uow: UnitOfWork, patient: int, exam_id: int, *, actor: Actor | None = None
) -> Referral:
    answers = {"pregnancy": False, "pacemaker": False}
    request = ReferralRequest(patient, exam_id, "tamin", answers, tracking_code=tracking_code())
    return await submit_referral(uow, actor or Actor.patient(patient), request)


async def _book(uow: UnitOfWork, patient: int, referral: int, device: int, start: datetime) -> int:
    me = Actor.patient(patient)
    held = await hold_slot(uow, me, referral, device, start)
    return (await confirm_booking(uow, me, held.id)).id


async def _setup(env: ClinicEnv) -> tuple[Department, int]:
    async with env.uow() as uow:
        dept = await build_department(uow, ct_places=40)
        patient = await add_patient(uow)
        await uow.commit()
    return dept, patient


async def test_invented_tracking_codes_get_one_open_referral_per_exam(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    refused = []
    for _ in range(10):  # the attack: one referral after another, each with a made-up code
        async with env.uow() as uow:
            try:
                await _submit(uow, patient, dept.ct_brain.id)
                await uow.commit()
            except OpenReferralForExam as error:
                refused.append(error)
    async with env.uow() as uow:
        kept = await uow.session.scalar(select(func.count()).select_from(Referral))
    assert kept == 1
    assert len(refused) == 9
    assert "You already have an open request for this exam" in str(refused[0])
    assert "«My appointments»" in str(refused[0])
    persian = refused[0].render(translator("fa").gettext, persian_digits=True)
    assert "نوبت‌های من" in persian


async def test_holding_many_times_keeps_one_place(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    async with env.uow() as uow:
        referral = await approved_referral(uow, patient, dept.ct_brain)
        me = Actor.patient(patient)
        for minute in range(0, 120, 15):  # each new hold of the referral releases the last
            await hold_slot(uow, me, referral, dept.ct.id, at(9, minute % 60, MONDAY))
        await uow.commit()
        held = await uow.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == "held")
        )
    assert held == 1


async def test_the_overall_cap_counts_every_exam(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    two = replace(env.policy, max_open_referrals=2)
    async with env.uow(two) as uow:
        await _submit(uow, patient, dept.ct_brain.id)
        await _submit(uow, patient, dept.mri_knee.id)
        await uow.commit()
        with pytest.raises(TooManyOpenReferrals) as caught:
            await _submit(uow, patient, dept.ct_contrast.id)
        with pytest.raises(TooManyOpenReferrals):
            await check_may_request(uow, Actor.patient(patient), patient)  # the bot's early answer
    assert "You already have 2 open imaging requests" in str(caught.value)
    persian = caught.value.render(translator("fa").gettext, persian_digits=True)
    assert "۲" in persian


async def test_future_bookings_are_capped_per_exam_and_in_all(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    policy = replace(
        env.policy, max_open_referrals_per_exam=2, max_open_referrals=4, max_future_bookings=2
    )
    async with env.uow(policy) as uow:
        brain_1 = await approved_referral(uow, patient, dept.ct_brain)
        brain_2 = await approved_referral(uow, patient, dept.ct_brain)
        contrast = await approved_referral(uow, patient, dept.ct_contrast)
        knee = await approved_referral(uow, patient, dept.mri_knee)
        await _book(uow, patient, brain_1, dept.ct.id, at(9))
        with pytest.raises(BookingForExam) as per_exam:
            await hold_slot(uow, Actor.patient(patient), brain_2, dept.ct.id, at(10))
        await _book(uow, patient, contrast, dept.ct.id, at(11))
        with pytest.raises(TooManyFutureBookings) as overall:
            await hold_slot(uow, Actor.patient(patient), knee, dept.mri.id, at(9))
    assert "You already have an upcoming appointment for this exam" in str(per_exam.value)
    assert "«Reschedule»" in str(per_exam.value)
    assert "You already have 2 upcoming appointments" in str(overall.value)


async def test_a_reschedule_at_the_cap_counts_once(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    one = replace(env.policy, max_future_bookings=1)
    async with env.uow(one) as uow:
        referral = await approved_referral(uow, patient, dept.ct_brain)
        booking = await _book(uow, patient, referral, dept.ct.id, at(9))
        me = Actor.patient(patient)
        await reschedule_hold(uow, me, booking, dept.ct.id, at(10))
        moved = await reschedule_hold(uow, me, booking, dept.ct.id, at(11))  # changed mind
        await confirm_booking(uow, me, moved.id)
        await uow.commit()
        old = await uow.session.get(Booking, booking)
    assert old is not None and old.status == "rescheduled"
    assert moved.starts_at == at(11)


async def test_cancelling_frees_the_booking_cap_and_withdrawing_the_referral_cap(
    env: ClinicEnv,
) -> None:
    dept, patient = await _setup(env)
    one = replace(env.policy, max_future_bookings=1)
    me = Actor.patient(patient)
    async with env.uow(one) as uow:
        brain = await approved_referral(uow, patient, dept.ct_brain)
        knee = await approved_referral(uow, patient, dept.mri_knee)
        booking = await _book(uow, patient, brain, dept.ct.id, at(9))
        with pytest.raises(TooManyFutureBookings):
            await hold_slot(uow, me, knee, dept.mri.id, at(9))
        await cancel_booking(uow, me, booking)
        await _book(uow, patient, knee, dept.mri.id, at(9))  # the cancelled place freed the cap
        await uow.commit()
        # The cancelled booking's referral stays open: it may be booked again, or withdrawn.
        assert [r.id for r in await unbooked_referrals(uow, me, patient)] == [brain]
        with pytest.raises(OpenReferralForExam):
            await _submit(uow, patient, dept.ct_brain.id)
        await withdraw_referral(uow, me, brain)
        await withdraw_referral(uow, me, brain)  # twice is harmless
        again = await _submit(uow, patient, dept.ct_brain.id)
        await uow.commit()
        with pytest.raises(Conflict, match="cancelled"):
            await hold_slot(uow, me, brain, dept.ct.id, at(10))
    # A second request for the same exam within days goes to staff instead of straight through.
    assert again.status == "submitted"


async def test_a_completed_exam_frees_its_referral(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    me = Actor.patient(patient)
    async with env.uow() as uow:
        referral = await approved_referral(uow, patient, dept.ct_brain)
        booking = await _book(uow, patient, referral, dept.ct.id, at(9))
        await uow.commit()
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking)
        await complete(uow, RECEPTION, booking)
        await uow.commit()
        with pytest.raises(Conflict, match="already been used"):
            await hold_slot(uow, me, referral, dept.ct.id, at(12))
    env.clock.advance(days=8)  # past the repeat-review window
    async with env.uow() as uow:
        follow_up = await _submit(uow, patient, dept.ct_brain.id)
        await uow.commit()
    assert follow_up.status == "approved"


async def test_a_missed_or_expired_booking_leaves_the_referral_open_to_book_again(
    env: ClinicEnv,
) -> None:
    dept, patient = await _setup(env)
    me = Actor.patient(patient)
    async with env.uow() as uow:
        referral = await approved_referral(uow, patient, dept.ct_brain)
        missed = await _book(uow, patient, referral, dept.ct.id, at(10, 15, date(2026, 11, 29)))
        await uow.commit()
    env.clock.set(at(11, 0, date(2026, 11, 29)))
    async with env.uow() as uow:
        await mark_no_show(uow, RECEPTION, missed)
        await hold_slot(uow, me, referral, dept.ct.id, at(9))  # a hold that runs out
        await uow.commit()
    env.clock.advance(minutes=11)
    async with env.uow() as uow:
        with pytest.raises(OpenReferralForExam):
            await _submit(uow, patient, dept.ct_brain.id)
        again = await _book(uow, patient, referral, dept.ct.id, at(9, 30))
        await uow.commit()
    assert again


async def test_a_health_worker_is_told_about_the_patient(env: ClinicEnv) -> None:
    from clinic.patients import PatientDetails, register_patient
    from clinic.staff import add_health_house, add_health_worker

    async with env.uow() as uow:
        dept = await build_department(uow)
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت روستا")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="بهورز یک", mobile="09150000001"
        )
        actor = Actor.health_worker(worker.id)
        details = PatientDetails("0499370899", "09121234567", "زهرا", "احمدی", "1350", "male")
        proof = await worker_proof(uow, worker.id, details.national_code, details.mobile)
        patient = (await register_patient(uow, actor, details, consent=True, proof=proof)).id
        await _submit(uow, patient, dept.ct_brain.id, actor=actor)
        with pytest.raises(OpenReferralForExam) as caught:
            await _submit(uow, patient, dept.ct_brain.id, actor=actor)
    assert str(caught.value).startswith("This patient already has an open request")
    assert "patient's card" in str(caught.value)


async def test_staff_and_closures_are_not_limited(env: ClinicEnv) -> None:
    dept, patient = await _setup(env)
    one = replace(env.policy, max_future_bookings=1, max_open_referrals=3)
    async with env.uow(one) as uow:
        brain = await approved_referral(uow, patient, dept.ct_brain)
        knee = await approved_referral(uow, patient, dept.mri_knee)
        booking = await _book(uow, patient, brain, dept.ct.id, at(9))
        # Reception books the second exam for the patient on the phone: their decision.
        held = await hold_slot(uow, RECEPTION, knee, dept.mri.id, at(9))
        await confirm_booking(uow, RECEPTION, held.id)
        await uow.commit()
        result = await close(uow, ADMIN, ClosureRequest(dept.ct.id, at(8), at(10), "تعمیر دستگاه"))
        await uow.commit()
    assert result.moved == 1
    assert result.moved_ids != [booking]
