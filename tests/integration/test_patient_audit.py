"""A patient's own booking changes are in the audit log (who cancelled my appointment?):
booked, moved, cancelled, waitlist joined and left, an offer taken; their looks are not, staff
entries are as before, and the hash chain over the log still holds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import audit_chain
from clinic.actors import Actor
from clinic.booking import (
    bookings_for_patient,
    cancel_booking,
    confirm_booking,
    get_booking,
    hold_slot,
    reschedule_hold,
)
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry
from clinic.outbox import pending
from clinic.waitlist import join_waitlist, leave_waitlist
from tests.factories import RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY, LATER = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 14)

Row = tuple[str, int | None, str, str, int | None, dict[str, object]]


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def trail(uow: UnitOfWork) -> list[Row]:
    """Every audit entry: (actor kind, actor id, action, entity, entity id, details)."""
    rows = await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [
        (str(r.actor_kind), r.actor_id, r.action, r.entity, r.entity_id, dict(r.details or {}))
        for r in rows
    ]


async def test_a_patients_own_changes_are_audited_under_their_id_and_looks_are_not(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 0)
        referral = await approved_referral(uow, pid, dept.ct_brain)
        await uow.commit()
        before = len(await trail(uow))
    me = Actor.patient(pid)
    async with env.uow() as uow:
        held = await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))
        booked = await confirm_booking(uow, me, held.id)
        entry = await join_waitlist(uow, me, referral, MONDAY + timedelta(days=1))
        await leave_waitlist(uow, me, entry.id)
        moving = await reschedule_hold(uow, me, booked.id, dept.ct.id, at(TUESDAY, 10))
        moved = await confirm_booking(uow, me, moving.id)
        # Looking is no change: the patient's reads write nothing.
        await get_booking(uow, me, moved.id)
        await bookings_for_patient(uow, me, pid)
        await cancel_booking(uow, me, moved.id)
        await uow.commit()
        entries = (await trail(uow))[before:]
    assert entries == [
        ("patient", pid, "booking.confirm", "booking", booked.id, {}),
        ("patient", pid, "waitlist.join", "waitlist", entry.id, {}),
        ("patient", pid, "waitlist.leave", "waitlist", entry.id, {}),
        ("patient", pid, "booking.confirm", "booking", moved.id, {}),
        ("patient", pid, "booking.cancel", "booking", moved.id, {"reason": "patient"}),
    ]
    assert moving.replaces_id == booked.id  # the move: the new booking names the old one


async def test_a_waitlist_offer_taken_and_the_cancel_that_freed_it_name_each_patient(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b = await add_patient(uow, 0), await add_patient(uow, 1)
        ra = await approved_referral(uow, a, dept.ct_brain)
        rb = await approved_referral(uow, b, dept.ct_brain)
        first = await hold_slot(uow, Actor.patient(a), ra, dept.ct.id, at(MONDAY, 9))
        booking = await confirm_booking(uow, Actor.patient(a), first.id)
        later = await hold_slot(uow, Actor.patient(b), rb, dept.ct.id, at(LATER, 9))
        await confirm_booking(uow, Actor.patient(b), later.id)
        waiting = await join_waitlist(uow, Actor.patient(b), rb, MONDAY + timedelta(days=3))
        await uow.commit()
        before = len(await trail(uow))
        await cancel_booking(uow, Actor.patient(a), booking.id)
        await uow.commit()
        (offer,) = await pending(uow, kind="waitlist_offer")
        taken = await confirm_booking(uow, Actor.patient(b), offer.params["booking_id"])
        await uow.commit()
        entries = (await trail(uow))[before:]
    assert taken.waitlist_id == waiting.id
    assert [(kind, who, action, entity_id) for kind, who, action, _, entity_id, _ in entries] == [
        ("patient", a, "booking.cancel", booking.id),
        ("patient", b, "booking.confirm", taken.id),
    ]


async def test_a_family_member_acting_is_named_and_staff_entries_are_as_before(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        parent, child = await add_patient(uow, 0), await add_patient(uow, 1)
        rc = await approved_referral(uow, child, dept.ct_brain)
        rp = await approved_referral(uow, parent, dept.ct_brain)
        account = Actor.patient(parent, family=[child])
        held = await hold_slot(uow, account, rc, dept.ct.id, at(MONDAY, 9))
        childs = await confirm_booking(uow, account, held.id)
        held = await hold_slot(uow, Actor.patient(parent), rp, dept.ct.id, at(MONDAY, 10))
        parents = await confirm_booking(uow, Actor.patient(parent), held.id)
        await uow.commit()
        before = len(await trail(uow))
        await cancel_booking(uow, account, childs.id)
        await cancel_booking(uow, RECEPTION, parents.id, reason="staff")
        await uow.commit()
        entries = (await trail(uow))[before:]
    assert entries == [
        # The chat account's own patient acted, for the child: who did it is what is asked.
        ("patient", parent, "booking.cancel", "booking", childs.id, {"reason": "patient"}),
        ("staff", RECEPTION.id, "booking.cancel", "booking", parents.id, {"reason": "staff"}),
    ]


async def test_the_hash_chain_seals_and_verifies_patient_entries(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 0)
        referral = await approved_referral(uow, pid, dept.ct_brain)
        me = Actor.patient(pid)
        held = await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))
        booked = await confirm_booking(uow, me, held.id)
        await cancel_booking(uow, me, booked.id)
        await uow.commit()
    async with env.uow() as uow:
        sealed = await audit_chain.seal(uow, settle=timedelta(0))
        await uow.commit()
    async with env.uow() as uow:
        verdict = await audit_chain.verify(uow)
        kinds = {kind for kind, *_ in await trail(uow)}
    assert "patient" in kinds
    assert (verdict.sealed, verdict.unsealed, verdict.intact) == (sealed, 0, True)
