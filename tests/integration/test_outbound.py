"""Outbound booking events (issue 13's first part): every change of a booking the hospital's
systems would be told of is written in the change's own transaction, one row per enabled
adapter, none when no adapter is enabled, and they come out in order per referral."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import outbound
from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.closures import ClosureRequest, close
from clinic.daylist import check_in, mark_no_show
from clinic.jalali import TEHRAN
from clinic.models import OutboundEvent, OutboxStatus
from tests.factories import ADMIN, RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)
ADAPTERS = ("hl7_siu", "fhir")


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _events(uow: UnitOfWork, adapter: str = "hl7_siu") -> list[tuple[str, int]]:
    rows = await uow.session.execute(
        select(OutboundEvent.kind, OutboundEvent.referral_id)
        .where(OutboundEvent.adapter == adapter)
        .order_by(OutboundEvent.id)
    )
    return [(kind, referral) for kind, referral in rows.tuples()]


async def test_each_change_of_a_booking_is_written_for_every_enabled_adapter(
    env: ClinicEnv,
) -> None:
    told = replace(env.policy, outbound=ADAPTERS)
    async with env.uow(told) as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 1)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))
        assert await _events(uow) == []  # a hold is not told: it may lapse in minutes
        booking = await confirm_booking(uow, me, held.id)
        moved_hold = await reschedule_hold(uow, me, booking.id, dept.ct.id, at(TUESDAY, 9))
        moved = await confirm_booking(uow, me, moved_hold.id)
        await uow.commit()
    env.clock.set(at(TUESDAY, 8, 50))
    async with env.uow(told) as uow:
        await check_in(uow, RECEPTION, moved.id)
        other = await add_patient(uow, 2)
        second = await approved_referral(uow, other, dept.ct_brain)
        hold = await hold_slot(uow, Actor.patient(other), second, dept.ct.id, at(TUESDAY, 11))
        later = await confirm_booking(uow, Actor.patient(other), hold.id)
        await cancel_booking(uow, RECEPTION, later.id, reason="staff")
        await uow.commit()
        for adapter in ADAPTERS:
            assert await _events(uow, adapter) == [
                ("booked", referral), ("moved", referral), ("admitted", referral),
                ("booked", second), ("cancelled", second),
            ]  # fmt: skip
        staff = await uow.session.scalars(
            select(OutboundEvent.staff_id).where(OutboundEvent.kind == "admitted")
        )
        assert set(staff) == {RECEPTION.id}


async def test_a_no_show_and_a_closure_move_are_told_and_a_rollback_tells_nothing(
    env: ClinicEnv,
) -> None:
    told = replace(env.policy, outbound=("hl7_siu",))
    async with env.uow(told) as uow:
        dept = await build_department(uow)
        patients = [await add_patient(uow, n) for n in (1, 2, 3)]
        refs = [await approved_referral(uow, p, dept.ct_brain) for p in patients]
        bookings = []
        for n, (p, r) in enumerate(zip(patients, refs, strict=True)):
            hold = await hold_slot(uow, Actor.patient(p), r, dept.ct.id, at(MONDAY, 9, 15 * n))
            bookings.append(await confirm_booking(uow, Actor.patient(p), hold.id))
        await uow.commit()
    async with env.uow(told) as uow:  # booked and then rolled back: nothing is written
        p = await add_patient(uow, 4)
        r = await approved_referral(uow, p, dept.ct_brain)
        hold = await hold_slot(uow, Actor.patient(p), r, dept.ct.id, at(MONDAY, 10))
        await confirm_booking(uow, Actor.patient(p), hold.id)
    env.clock.set(at(MONDAY, 9, 30))
    async with env.uow(told) as uow:
        await mark_no_show(uow, RECEPTION, bookings[0].id)
        shut = ClosureRequest(dept.ct.id, at(MONDAY, 9, 20), at(MONDAY, 9, 45), "تعمیر")
        await close(uow, ADMIN, shut)
        await uow.commit()
        events = await _events(uow)
    assert events[:3] == [("booked", refs[0]), ("booked", refs[1]), ("booked", refs[2])]
    assert events[3] == ("no_show", refs[0])
    assert sorted(events[4:]) == sorted([("moved", refs[1]), ("moved", refs[2])])
    assert r not in {referral for _, referral in events}


async def test_nothing_is_written_when_no_adapter_is_enabled(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 1)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        hold = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        await confirm_booking(uow, Actor.patient(patient), hold.id)
        await uow.commit()
        assert await _events(uow) == []


async def test_a_referrals_events_come_out_in_order_and_others_do_not_wait(
    env: ClinicEnv,
) -> None:
    told = replace(env.policy, outbound=("hl7_siu",))
    async with env.uow(told) as uow:
        dept = await build_department(uow)
        first, second = await add_patient(uow, 1), await add_patient(uow, 2)
        ra = await approved_referral(uow, first, dept.ct_brain)
        rb = await approved_referral(uow, second, dept.ct_brain)
        a = await hold_slot(uow, Actor.patient(first), ra, dept.ct.id, at(MONDAY, 9))
        booked_a = await confirm_booking(uow, Actor.patient(first), a.id)
        b = await hold_slot(uow, Actor.patient(second), rb, dept.ct.id, at(MONDAY, 10))
        await confirm_booking(uow, Actor.patient(second), b.id)
        await cancel_booking(uow, RECEPTION, booked_a.id, reason="staff")
        await uow.commit()
        first_due = await outbound.next_due(uow, "hl7_siu")
        assert first_due is not None and (first_due.kind, first_due.referral_id) == ("booked", ra)
        # A's booking is not yet told (being sent, then failing for a while): A's cancellation
        # waits behind it, B's booking does not.
        first_due.status = OutboxStatus.SENDING
        await uow.session.flush()
        then = await outbound.next_due(uow, "hl7_siu")
        assert then is not None and (then.kind, then.referral_id) == ("booked", rb)
        first_due.status = OutboxStatus.PENDING
        first_due.next_attempt_at = uow.clock.now() + timedelta(minutes=5)
        then.status = OutboxStatus.SENT
        await uow.session.flush()
        assert await outbound.next_due(uow, "hl7_siu") is None
        first_due.status = OutboxStatus.SENT
        await uow.session.flush()
        last = await outbound.next_due(uow, "hl7_siu")
        assert last is not None and (last.kind, last.referral_id) == ("cancelled", ra)
