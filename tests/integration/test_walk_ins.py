"""Places kept back for walk-ins, inpatients and urgent cases, and the walk-in queue."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, select, update

from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import hold_slot
from clinic.daylist import complete
from clinic.desk import DeskRequest, book_at_desk
from clinic.errors import SlotFull
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import BookingChannel, Exam, Keep, KeepPer, KeptPlaces, WorkingHours
from clinic.walk_ins import NotWalkIn, WalkInRequest, issue_ticket, place_in_queue, queue
from tests.factories import (
    RECEPTION,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

SUNDAY, MONDAY = date(2026, 11, 29), date(2026, 11, 30)  # the clock: Sunday 08:00
CT, MRI = 1, 2


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def exam(uow: UnitOfWork, code: str) -> Exam:
    return (await uow.session.scalars(select(Exam).where(Exam.code == code))).one()


async def referral_for(env: ClinicEnv, n: int, code: str) -> int:
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        referral = await approved_referral(uow, patient, await exam(uow, code))
        await uow.commit()
        return referral


async def keep(env: ClinicEnv, device: int, what: Keep, per: KeepPer, places: int) -> None:
    async with env.uow() as uow:
        uow.session.add(KeptPlaces(device_id=device, keep=what, per=per, places=places))
        await uow.commit()


@pytest.fixture
async def dept(env: ClinicEnv) -> ClinicEnv:
    async with env.uow() as uow:
        await build_department(uow, ct_places=2)
        await uow.commit()
    return env


async def test_a_place_kept_per_slot_is_left_to_walk_ins(dept: ClinicEnv) -> None:
    env = dept
    await keep(env, CT, Keep.WALK_IN, KeepPer.SLOT, 1)  # 2 places a slot: 1 bookable
    first, second = await referral_for(env, 1, "CT-BRAIN"), await referral_for(env, 2, "CT-BRAIN")
    async with env.uow() as uow:
        await hold_slot(uow, Actor.patient(1), first, CT, at(MONDAY, 9))
        await uow.commit()
    async with env.uow() as uow:
        with pytest.raises(SlotFull):
            await hold_slot(uow, Actor.patient(2), second, CT, at(MONDAY, 9))
    async with env.uow() as uow:
        times = {to_tehran(t.starts_at).time(): t.free for t in await bookable_times(
            uow, (await exam(uow, "CT-BRAIN")).id, MONDAY
        )}  # fmt: skip
        held = await hold_slot(
            uow, RECEPTION, second, CT, at(MONDAY, 9), keep=Keep.WALK_IN,
            channel=BookingChannel.WALK_IN,
        )  # fmt: skip
    assert time(9) not in times and times[time(9, 15)] == 1  # patients see one place a slot
    assert held.channel == "walk_in"


async def test_places_kept_per_day_are_the_days_last(dept: ClinicEnv) -> None:
    env = dept
    async with env.uow() as uow:  # the MRI works one hour and a half on Monday: 3 places
        await uow.session.execute(delete(WorkingHours).where(WorkingHours.device_id == MRI))
        uow.session.add(WorkingHours(device_id=MRI, weekday=2, starts=time(8), ends=time(9, 30)))
        await uow.commit()
    await keep(env, MRI, Keep.URGENT, KeepPer.DAY, 2)
    referrals = [await referral_for(env, n, "MRI-KNEE") for n in (1, 2, 3)]
    async with env.uow() as uow:
        knee = (await exam(uow, "MRI-KNEE")).id
        assert next(d.day for d in await bookable_days(uow, knee)) == MONDAY  # every Monday
        await hold_slot(uow, Actor.patient(1), referrals[0], MRI, at(MONDAY, 8))
        await uow.commit()
    async with env.uow() as uow:
        assert await bookable_times(uow, knee, MONDAY) == []  # the two left are kept
        assert MONDAY not in [d.day for d in await bookable_days(uow, knee)]
        with pytest.raises(SlotFull):
            await hold_slot(uow, Actor.patient(2), referrals[1], MRI, at(MONDAY, 8, 30))
    async with env.uow() as uow:  # an urgent case at the desk may use them
        urgent = await book_at_desk(
            uow, RECEPTION,
            DeskRequest(national_code(3), "MRI-KNEE", "salamat", {"pacemaker": False},
                        keep=Keep.URGENT),
        )  # fmt: skip
    assert to_tehran(urgent.starts_at) == at(MONDAY, 8, 30)


async def test_walk_ins_get_numbered_tickets_in_todays_queue(dept: ClinicEnv) -> None:
    env = dept
    async with env.uow() as uow:
        for n in (1, 2):
            await add_patient(uow, n)
        await uow.commit()

    def walk_in(n: int) -> WalkInRequest:
        return WalkInRequest(national_code(n), "CT-BRAIN", "tamin", {"pregnancy": False})

    async with env.uow() as uow:
        with pytest.raises(NotWalkIn):
            await issue_ticket(uow, RECEPTION, walk_in(1))
        await uow.session.execute(update(Exam).where(Exam.code == "CT-BRAIN").values(walk_in=True))
        await uow.commit()
    tickets = []
    for n in (1, 2):
        async with env.uow() as uow:
            tickets.append(await issue_ticket(uow, RECEPTION, walk_in(n)))
            await uow.commit()
    assert [(t.number, t.ahead, t.day) for t in tickets] == [(1, 0, SUNDAY), (2, 1, SUNDAY)]
    async with env.uow() as uow:
        rows = await queue(uow, RECEPTION, CT, SUNDAY)
        second = await place_in_queue(uow, tickets[1].booking_id)
    assert [(r.number, r.status) for r in rows] == [(1, "checked_in"), (2, "checked_in")]
    assert second == 1
    async with env.uow() as uow:
        await complete(uow, RECEPTION, tickets[0].booking_id)
        await uow.commit()
        assert await place_in_queue(uow, tickets[1].booking_id) == 0
        assert await place_in_queue(uow, tickets[0].booking_id) is None  # done


async def test_two_desks_at_once_never_give_a_number_twice(dept: ClinicEnv) -> None:
    env = dept
    async with env.uow() as uow:
        for n in (1, 2, 3):
            await add_patient(uow, n)
        await uow.session.execute(update(Exam).where(Exam.code == "CT-BRAIN").values(walk_in=True))
        await uow.commit()

    async def desk(n: int) -> int:
        async with env.uow() as uow:
            request = WalkInRequest(national_code(n), "CT-BRAIN", "tamin", {"pregnancy": False})
            ticket = await issue_ticket(uow, RECEPTION, request)
            await uow.commit()
            return ticket.number

    numbers = await asyncio.gather(desk(1), desk(2), desk(3))
    assert sorted(numbers) == [1, 2, 3]


async def test_two_holds_at_once_never_take_a_days_kept_places(dept: ClinicEnv) -> None:
    env = dept
    async with env.uow() as uow:  # 3 places on Monday, the last 2 kept for urgent cases
        await uow.session.execute(delete(WorkingHours).where(WorkingHours.device_id == MRI))
        uow.session.add(WorkingHours(device_id=MRI, weekday=2, starts=time(8), ends=time(9, 30)))
        await uow.commit()
    await keep(env, MRI, Keep.URGENT, KeepPer.DAY, 2)
    referrals = [await referral_for(env, n, "MRI-KNEE") for n in (1, 2)]

    async def patient_holds(n: int, at_time: datetime) -> bool:
        async with env.uow() as uow:
            try:
                await hold_slot(uow, Actor.patient(n), referrals[n - 1], MRI, at_time)
            except SlotFull:
                return False
            await uow.commit()
            return True

    won = await asyncio.gather(
        patient_holds(1, at(MONDAY, 8)), patient_holds(2, at(MONDAY, 8, 30))
    )
    assert sorted(won) == [False, True]  # one ordinary place that day, whoever came first
