"""Where am I in the queue (issue 14, part 5): the admitted patients of the same device ahead
of a patient today, by their booked slot (walk-ins among themselves by ticket), a rough wait,
only for one's own admitted booking on its day, and nothing about the others but a count."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in, complete
from clinic.errors import NotFound
from clinic.jalali import TEHRAN
from clinic.models import Booking, Exam
from clinic.queue_position import NotInQueue, QueuePosition, queue_position
from clinic.walk_ins import WalkInRequest, issue_ticket
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.factories import national_code as code

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

SATURDAY, SUNDAY = date(2026, 11, 28), date(2026, 11, 29)
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _book(env: ClinicEnv, starts: list[datetime], *, places: int = 1) -> list[Booking]:
    """Patients 1.. booked on the CT at ``starts`` (the clock before them)."""
    booked = []
    async with env.uow() as uow:
        dept = await build_department(uow, ct_places=places)
        for n, when in enumerate(starts, start=1):
            patient = await add_patient(uow, n)
            referral = await approved_referral(uow, patient, dept.ct_brain)
            me = Actor.patient(patient)
            hold = await hold_slot(uow, me, referral, dept.ct.id, when)
            booked.append(await confirm_booking(uow, me, hold.id))
        await uow.commit()
    return booked


async def _admit(env: ClinicEnv, *bookings: Booking) -> None:
    for booking in bookings:  # one at a time, a minute apart, as reception admits them
        async with env.uow() as uow:
            await check_in(uow, RECEPTION, booking.id)
            await uow.commit()
        env.clock.advance(minutes=1)


async def _place(env: ClinicEnv, booking: Booking) -> QueuePosition:
    async with env.uow() as uow:
        return await queue_position(uow, Actor.patient(booking.patient_id), booking.id)


async def test_the_admitted_of_earlier_slots_are_ahead_whenever_they_came(env: ClinicEnv) -> None:
    p1, p2, p3, p4 = await _book(env, [at(MONDAY, 9, 15 * i) for i in range(4)])
    env.clock.set(at(MONDAY, 8, 40))
    await _admit(env, p3, p1, p4)  # 09:30 came first; 09:15 has not come yet
    first, third, fourth = [await _place(env, b) for b in (p1, p3, p4)]
    assert (first.ahead, first.wait_minutes) == (0, 0)
    assert (third.ahead, third.wait_minutes) == (1, 15)  # 09:00 only: 09:15 is not admitted
    assert (fourth.ahead, fourth.wait_minutes) == (2, 30)
    assert third.as_of == env.clock.now() and third.ticket is None
    # A count and a wait, the booking's own ids: nothing of anyone else.
    assert [f.name for f in fields(QueuePosition)] == [
        "booking_id", "device_id", "ahead", "wait_minutes", "ticket", "as_of",
    ]  # fmt: skip
    with pytest.raises(NotInQueue):
        await _place(env, p2)
    await _admit(env, p2)  # 09:15 comes late: still called before 09:30
    assert (await _place(env, p3)).ahead == 2
    async with env.uow() as uow:
        await complete(uow, RECEPTION, p1.id)
        await uow.commit()
    assert [(await _place(env, b)).ahead for b in (p2, p3, p4)] == [0, 1, 2]
    with pytest.raises(NotInQueue):  # done: no queue any more
        await _place(env, p1)


async def test_only_ones_own_admitted_booking_and_only_on_its_day(env: ClinicEnv) -> None:
    mine, theirs = await _book(env, [at(MONDAY, 9), at(MONDAY, 9, 15)])
    with pytest.raises(NotInQueue):  # the day before
        await _place(env, mine)
    env.clock.set(at(MONDAY, 8, 45))
    await _admit(env, mine, theirs)
    async with env.uow() as uow:
        with pytest.raises(NotFound):  # another patient's booking is not found
            await queue_position(uow, Actor.patient(mine.patient_id), theirs.id)
        stranger = Actor.patient(await add_patient(uow, 9))
        with pytest.raises(NotFound):
            await queue_position(uow, stranger, mine.id)
    assert (await _place(env, theirs)).ahead == 1
    env.clock.set(at(TUESDAY, 8))  # admitted yesterday and never completed: not today's queue
    with pytest.raises(NotInQueue):
        await _place(env, theirs)


async def test_walk_ins_go_by_ticket_and_sit_among_appointments_by_slot(env: ClinicEnv) -> None:
    env.clock.set(at(SATURDAY, 10))
    (booked,) = await _book(env, [at(SUNDAY, 8, 30)], places=2)
    async with env.uow() as uow:
        await uow.session.execute(update(Exam).where(Exam.code == "CT-BRAIN").values(walk_in=True))
        for n in (2, 3):
            await add_patient(uow, n)
        await uow.commit()
    env.clock.set(at(SUNDAY, 8))
    tickets = []
    for n in (2, 3):
        async with env.uow() as uow:
            request = WalkInRequest(code(n), "CT-BRAIN", "tamin", {"pregnancy": False})
            tickets.append(await issue_ticket(uow, RECEPTION, request))
            await uow.commit()
    await _admit(env, booked)
    async with env.uow() as uow:
        walk_ins = [await uow.session.get(Booking, t.booking_id) for t in tickets]
    one, two = [w for w in walk_ins if w is not None]
    assert (await _place(env, booked)).ahead == 2  # both walk-ins have the 08:00 slot
    assert (await _place(env, booked)).wait_minutes == 15  # two places a 15-minute slot
    second = await _place(env, two)
    assert (second.ahead, second.ticket, second.wait_minutes) == (1, 2, 8)
    async with env.uow() as uow:  # the second ticket got an earlier slot (one freed up):
        await uow.session.execute(  # the desk still calls the numbers in order
            update(Booking).where(Booking.id == two.id).values(starts_at=at(SUNDAY, 7, 45))
        )
        await uow.commit()
    assert [(await _place(env, w)).ahead for w in (one, two)] == [0, 1]
