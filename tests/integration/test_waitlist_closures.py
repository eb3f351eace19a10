"""Freed places go to the waitlist; closures move or cancel every affected booking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.availability import bookable_times
from clinic.booking import cancel_booking, confirm_booking, hold_slot, release_expired_holds
from clinic.closures import ClosureRequest, affected_bookings, close
from clinic.jalali import TEHRAN
from clinic.models import Booking, OutboxMessage, WaitlistEntry
from clinic.outbox import pending
from clinic.waitlist import join_waitlist
from tests.factories import ADMIN, Department, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)
LATER = date(2026, 12, 14)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _book(
    uow: UnitOfWork, patient: int, referral: int, device: int, start: datetime
) -> Booking:
    me = Actor.patient(patient)
    return await confirm_booking(uow, me, (await hold_slot(uow, me, referral, device, start)).id)


async def test_a_cancelled_place_is_offered_to_the_first_in_line(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b, c = [await add_patient(uow, n) for n in range(3)]
        ra = await approved_referral(uow, a, dept.ct_brain)
        rb = await approved_referral(uow, b, dept.ct_brain)
        rc = await approved_referral(uow, c, dept.ct_brain)
        booking = await _book(uow, a, ra, dept.ct.id, at(MONDAY, 9))
        later_b = await _book(uow, b, rb, dept.ct.id, at(LATER, 9))
        entry_b = await join_waitlist(uow, Actor.patient(b), rb, MONDAY + timedelta(days=3))
        env.clock.advance(minutes=1)
        entry_c = await join_waitlist(uow, Actor.patient(c), rc, MONDAY + timedelta(days=3))
        await uow.commit()
        await cancel_booking(uow, Actor.patient(a), booking.id)
        await uow.commit()
        offers = await pending(uow, kind="waitlist_offer")
        assert [o.recipient_id for o in offers] == [b]
        offer_id = offers[0].params["booking_id"]
        # B takes it: the offer replaces B's later booking, which frees that place in turn.
        await confirm_booking(uow, Actor.patient(b), offer_id)
        await uow.commit()
        old = await uow.session.get(Booking, later_b.id)
        entry = await uow.session.get(WaitlistEntry, entry_b.id)
        assert old is not None
        assert entry is not None
        assert old.status == "rescheduled"
        assert entry.status == "booked"
        # C wanted something before Thursday; B's old place on 14 Dec is too late for C.
        assert [o.recipient_id for o in await pending(uow, kind="waitlist_offer")] == [b]
        waiting_c = await uow.session.get(WaitlistEntry, entry_c.id)
        assert waiting_c is not None
        assert waiting_c.status == "waiting"


async def test_a_lapsed_offer_passes_to_the_next_patient(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b, c = [await add_patient(uow, n) for n in range(3)]
        ra = await approved_referral(uow, a, dept.ct_brain)
        rb = await approved_referral(uow, b, dept.ct_brain)
        rc = await approved_referral(uow, c, dept.ct_brain)
        booking = await _book(uow, a, ra, dept.ct.id, at(MONDAY, 9))
        await join_waitlist(uow, Actor.patient(b), rb, LATER)
        env.clock.advance(minutes=1)
        await join_waitlist(uow, Actor.patient(c), rc, LATER)
        await cancel_booking(uow, Actor.patient(a), booking.id)
        await uow.commit()
    env.clock.advance(minutes=env.policy.waitlist_offer_minutes + 1)
    async with env.uow() as uow:
        await release_expired_holds(uow)
        await uow.commit()
        offers = list(
            await uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "waitlist_offer")
                .order_by(OutboxMessage.id)
            )
        )
        # B's offer lapsed (and, never sent, is withdrawn); the place is now held for C, not B.
        assert [(o.recipient_id, o.status) for o in offers] == [(b, "cancelled"), (c, "pending")]
        held_for_c = await uow.session.get(Booking, offers[1].params["booking_id"])
        assert held_for_c is not None
        assert held_for_c.status == "held"
        assert held_for_c.starts_at == at(MONDAY, 9)


async def _fill(
    uow: UnitOfWork, dept: Department, day: date, count: int, first_n: int = 0
) -> list[int]:
    ids = []
    for n in range(count):
        patient = await add_patient(uow, first_n + n)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        start = at(day, 7, 30) + timedelta(minutes=15 * n)
        ids.append((await _book(uow, patient, referral, dept.ct.id, start)).id)
    return ids


async def test_a_device_closure_moves_every_booking_with_a_notice(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        booked = await _fill(uow, dept, MONDAY, 12)
        await uow.commit()
        request = ClosureRequest(
            dept.ct.id, at(MONDAY, 7), at(MONDAY, 14), "خرابی دستگاه", "The scanner is down"
        )
        assert len(await affected_bookings(uow, request)) == 12
        result = await close(uow, ADMIN, request)
        await uow.commit()
        moved = [await uow.session.get(Booking, i) for i in result.moved_ids]
        notices = await pending(uow, kind="closure_moved")
        old_reminders = await uow.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.booking_id.in_(booked), OutboxMessage.status == "pending")
        )
    assert (result.affected, result.moved, result.cancelled) == (12, 12, 0)
    assert all(b is not None and b.status == "confirmed" for b in moved)
    # The CT's Monday is closed; the twelve move, in order, to Tuesday's first free times.
    starts = [b.starts_at.astimezone(TEHRAN) for b in moved if b is not None]
    assert starts == [at(date(2026, 12, 1), 7, 30) + timedelta(minutes=15 * i) for i in range(12)]
    assert len(notices) == 12
    assert notices[0].params["reason_fa"] == "خرابی دستگاه"
    assert old_reminders == 0


async def test_a_closure_with_no_free_time_cancels_and_offers_days(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await _fill(uow, dept, MONDAY, 2)
        await uow.commit()
        result = await close(
            uow,
            ADMIN,
            ClosureRequest(dept.ct.id, at(MONDAY, 0), at(MONDAY, 23), "تعمیر", move=False),
        )
        await uow.commit()
        notices = await pending(uow, kind="closure_cancelled")
        times = await bookable_times(uow, dept.ct_brain.id, MONDAY)
    assert (result.affected, result.moved, result.cancelled) == (2, 0, 2)
    assert len(notices) == 2
    assert notices[0].params["options"][0] == "2026-12-01"
    assert notices[0].urgent
    assert times == []
