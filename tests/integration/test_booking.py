"""Holds, confirmation, cancellation and rescheduling, with their outbox rows."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.availability import bookable_times
from clinic.booking import (
    bookings_for_patient,
    cancel_booking,
    confirm_booking,
    find_by_code,
    get_booking,
    hold_slot,
    release_expired_holds,
    reschedule_hold,
)
from clinic.codes import parse_code
from clinic.errors import (
    HoldExpired,
    NotFound,
    ReferralNotApproved,
    SlotFull,
    SlotUnavailable,
    TooLateToCancel,
)
from clinic.jalali import TEHRAN
from clinic.models import Booking, OutboxMessage
from clinic.outbox import pending
from clinic.referrals import ReferralRequest, submit_referral
from tests.factories import RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def test_confirmed_booking_queues_confirmation_reminders_and_preparation(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_contrast)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        booking = await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
        rows = await pending(uow, booking_id=booking.id)
    assert booking.status == "confirmed"
    assert parse_code(booking.code) == booking.code
    kinds = {(r.kind, r.due_at.astimezone(TEHRAN)) for r in rows}
    assert ("booking_confirmed", env.clock.now().astimezone(TEHRAN)) in kinds
    assert ("reminder", at(date(2026, 11, 29), 9)) in kinds  # 24 h before
    assert ("reminder", at(MONDAY, 7)) in kinds  # 2 h before
    # Fasting from 03:00 would wake the patient: the notice goes at 21:00 the evening before.
    prep = next(r for r in rows if r.kind == "preparation")
    assert prep.due_at.astimezone(TEHRAN) == at(date(2026, 11, 29), 21)
    assert prep.params["from"] == at(MONDAY, 3).astimezone(prep.due_at.tzinfo).isoformat()


async def test_confirming_twice_queues_nothing_twice(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
        count = len(await pending(uow, booking_id=held.id))
    assert count == 3  # confirmation and two reminders


async def test_the_last_place_goes_to_one_patient(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        first, second = await add_patient(uow, 0), await add_patient(uow, 1)
        r1 = await approved_referral(uow, first, dept.ct_brain)
        r2 = await approved_referral(uow, second, dept.ct_brain)
        await uow.commit()
        ct, ct_brain = dept.ct.id, dept.ct_brain.id
        await hold_slot(uow, Actor.patient(first), r1, ct, at(MONDAY, 9))
        await uow.commit()
        with pytest.raises((SlotFull, SlotUnavailable)):
            await hold_slot(uow, Actor.patient(second), r2, ct, at(MONDAY, 9))
        await uow.rollback()
        times = await bookable_times(uow, ct_brain, MONDAY)
    assert at(MONDAY, 9) not in [t.starts_at for t in times]


async def test_an_expired_hold_frees_the_place_and_cannot_be_confirmed(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await uow.commit()
    env.clock.advance(minutes=11)
    async with env.uow() as uow:
        times = await bookable_times(uow, dept.ct_brain.id, MONDAY)
        assert at(MONDAY, 9) in [t.starts_at for t in times]
        with pytest.raises(HoldExpired) as caught:
            await confirm_booking(uow, Actor.patient(patient), held.id)
        assert "10 minutes" in str(caught.value)
    async with env.uow() as uow:
        assert await release_expired_holds(uow) == 1
        await uow.commit()
        booking = await uow.session.get(Booking, held.id)
    assert booking is not None
    assert booking.status == "expired"


async def test_a_referral_waiting_for_review_cannot_be_booked(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await submit_referral(
            uow,
            Actor.patient(patient),
            ReferralRequest(patient, dept.mri_knee.id, "salamat", {"pacemaker": False}, "998877"),
        )
        with pytest.raises(ReferralNotApproved):
            await hold_slot(uow, Actor.patient(patient), referral.id, dept.mri.id, at(MONDAY, 9))


async def test_times_outside_working_hours_or_on_the_wrong_device_are_refused(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        for device, start in (
            (dept.ct.id, at(MONDAY, 14)),  # after the shift
            (dept.ct.id, at(MONDAY, 9, 5)),  # not a slot start
            (dept.ct.id, at(date(2026, 12, 4), 9)),  # Friday
            (dept.mri.id, at(MONDAY, 9)),  # the MRI does not do CT
            (dept.ct.id, at(date(2026, 11, 29), 8, 30)),  # inside the lead time
        ):
            with pytest.raises(SlotUnavailable):
                await hold_slot(uow, Actor.patient(patient), referral, device, start)


async def test_patients_cancel_only_with_notice_staff_always(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
    env.clock.set(at(date(2026, 11, 29), 10))  # 23 hours before
    async with env.uow() as uow:
        with pytest.raises(TooLateToCancel) as caught:
            await cancel_booking(uow, Actor.patient(patient), held.id)
        assert "24 hours" in str(caught.value)
    async with env.uow() as uow:
        booking = await cancel_booking(uow, RECEPTION, held.id, reason="staff")
        await uow.commit()
        notices = await pending(uow, booking_id=held.id)
    assert booking.status == "cancelled"
    # Reminders withdrawn; the patient is told that staff cancelled (urgent: within 24 h).
    assert [(n.kind, n.urgent) for n in notices] == [("booking_cancelled", True)]


async def test_a_patient_cancelling_in_time_frees_the_place(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await cancel_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
        times = await bookable_times(uow, dept.ct_brain.id, MONDAY)
        assert await pending(uow, booking_id=held.id) == []
    assert at(MONDAY, 9) in [t.starts_at for t in times]


async def test_reschedule_keeps_the_old_booking_until_the_new_one_is_confirmed(
    env: ClinicEnv,
) -> None:
    me = None
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        old = await confirm_booking(
            uow, me, (await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))).id
        )
        new = await reschedule_hold(uow, me, old.id, dept.ct.id, at(MONDAY, 11))
        await uow.commit()
        # Until confirmation both places are taken and the old booking stands.
        assert (await get_booking(uow, me, old.id)).status == "confirmed"
        starts = [t.starts_at for t in await bookable_times(uow, dept.ct_brain.id, MONDAY)]
        assert at(MONDAY, 9) not in starts
        assert at(MONDAY, 11) not in starts
        await confirm_booking(uow, me, new.id)
        await uow.commit()
        starts = [t.starts_at for t in await bookable_times(uow, dept.ct_brain.id, MONDAY)]
        upcoming = await bookings_for_patient(uow, me, patient)
        old_row = await get_booking(uow, me, old.id)
        kinds = [n.kind for n in await pending(uow, booking_id=new.id)]
    assert old_row.status == "rescheduled"
    assert at(MONDAY, 9) in starts
    assert [b.id for b in upcoming] == [new.id]
    assert "booking_rescheduled" in kinds
    async with env.uow() as uow:
        assert await pending(uow, booking_id=old.id) == []


async def test_an_abandoned_reschedule_leaves_the_old_booking(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        old = await confirm_booking(
            uow, me, (await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))).id
        )
        await reschedule_hold(uow, me, old.id, dept.ct.id, at(MONDAY, 11))
        await uow.commit()
    env.clock.advance(minutes=30)
    async with env.uow() as uow:
        await release_expired_holds(uow)
        await uow.commit()
        assert (await get_booking(uow, me, old.id)).status == "confirmed"
        assert len(await pending(uow, booking_id=old.id, kind="reminder")) == 2


async def test_nobody_sees_another_patients_booking(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        owner, other = await add_patient(uow, 0), await add_patient(uow, 1)
        referral = await approved_referral(uow, owner, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(owner), referral, dept.ct.id, at(MONDAY, 9))
        booking = await confirm_booking(uow, Actor.patient(owner), held.id)
        await uow.commit()
        with pytest.raises(NotFound):
            await get_booking(uow, Actor.patient(other), booking.id)
        with pytest.raises(NotFound):
            await cancel_booking(uow, Actor.patient(other), booking.id)
        with pytest.raises(NotFound):
            await find_by_code(uow, Actor.patient(other), booking.code)
        persian = booking.code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        assert (await find_by_code(uow, RECEPTION, persian)).id == booking.id
        wrong = booking.code[:-2] + str((int(booking.code[-2]) + 1) % 10) + booking.code[-1]
        with pytest.raises(NotFound):  # one digit wrong: the check digit catches it
            await find_by_code(uow, RECEPTION, wrong)


async def test_outbox_rows_roll_back_with_the_change(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        await uow.commit()
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.rollback()
        rows = list(await uow.session.scalars(select(OutboxMessage)))
        bookings = list(await uow.session.scalars(select(Booking)))
    assert rows == []
    assert bookings == []
