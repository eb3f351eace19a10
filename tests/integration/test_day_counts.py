"""The day list's counts agree with the times each day lists: holds, closures, shifts, lead time.

The day list counts one-slot exams from each device's day totals (or run by run where the lead
time, a closure or a change of hours cuts the day) and longer exams start by start; a patient
who taps a day must find the places its button promised. The day totals stay equal to the
counter rows they sum, and keeping them never makes two holds wait for each other in a cycle.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import cancel_booking, confirm_booking, hold_slot
from clinic.closures import ClosureRequest, close
from clinic.errors import SlotUnavailable
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import Device, DeviceExam, Exam, SlotDay, SlotUsage, WorkingHours
from clinic.policy import Policy
from tests.factories import ADMIN, Department, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)  # the clock stands at Sunday 29 Nov 08:00 Tehran
TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)
TWO_WEEKS = Policy(horizon_days=14)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def book(
    uow: UnitOfWork, n: int, exam: Exam, device: Device, starts_at: datetime, *, confirm: bool
) -> None:
    """Patient ``n`` holds the time (and confirms it if ``confirm``), then commits."""
    patient = await add_patient(uow, n)
    referral = await approved_referral(uow, patient, exam)
    me = Actor.patient(patient)
    held = await hold_slot(uow, me, referral, device.id, starts_at)
    if confirm:
        await confirm_booking(uow, me, held.id)
    await uow.commit()


async def days_as_listed(uow: UnitOfWork, exam: Exam) -> dict[date, int]:
    """What the day list promises, checked against the times each day then shows."""
    listed = {d.day: d.free for d in await bookable_days(uow, exam.id)}
    first = uow.clock.now().astimezone(TEHRAN).date()
    for day in (first + timedelta(days=n) for n in range(uow.policy.horizon_days)):
        times = await bookable_times(uow, exam.id, day)
        assert (day in listed) == bool(times), day
        if times:
            places: dict[int, int] = {}
            slots = {t.device_id: t.slots for t in times}
            for t in times:
                places[t.device_id] = places.get(t.device_id, 0) + t.free
            fit = sum(places[device] // slots[device] for device in places)
            assert listed[day] == max(1, fit), day
    return listed


async def assert_day_totals_match_the_rows(uow: UnitOfWork) -> None:
    """``slot_days`` holds exactly the per-day sums of ``slot_usage``."""
    expected: dict[tuple[int, date], tuple[int, int, datetime, datetime]] = {}
    rows = await uow.session.execute(
        select(SlotUsage.device_id, SlotUsage.starts_at, SlotUsage.capacity, SlotUsage.used)
    )
    for device, start, capacity, used in rows.tuples():
        key = (device, to_tehran(start).date())
        slots, left, first, last = expected.get(key, (0, 0, start, start))
        expected[key] = (slots + 1, left + capacity - used, min(first, start), max(last, start))
    totals = await uow.session.scalars(select(SlotDay))
    found = {
        (t.device_id, t.day): (t.slots, t.places_left, t.first_start, t.last_start) for t in totals
    }
    assert found == expected


async def test_counts_follow_bookings_holds_and_closures(env: ClinicEnv) -> None:
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow, ct_places=2)
        await uow.commit()
        for n, (hh, mm) in enumerate([(8, 0), (8, 0), (8, 15), (13, 15)]):
            await book(uow, n, dept.ct_brain, dept.ct, at(MONDAY, hh, mm), confirm=True)
        await book(uow, 10, dept.ct_contrast, dept.ct, at(MONDAY, 9, 0), confirm=False)
        await close(
            uow, ADMIN, ClosureRequest(dept.ct.id, at(TUESDAY, 9), at(TUESDAY, 10, 10), "تعمیر")
        )
        start = at(WEDNESDAY, 0)
        await close(uow, ADMIN, ClosureRequest(None, start, start + timedelta(days=1), "برف"))
        await uow.commit()
        brain = await days_as_listed(uow, dept.ct_brain)
        contrast = await days_as_listed(uow, dept.ct_contrast)
        await assert_day_totals_match_the_rows(uow)
    # 24 starts x 2 places; 4 confirmed places and a 30-minute hold (two slots) taken.
    assert brain[MONDAY] == 48 - 4 - 2
    # The closure 09:00-10:10 shuts five starts (09:00 ... 10:00).
    assert brain[TUESDAY] == 48 - 5 * 2
    assert WEDNESDAY not in brain and WEDNESDAY not in contrast
    # Today: from 10:00 (two hours' lead time) to 13:15, fourteen starts.
    assert brain[date(2026, 11, 29)] == 14 * 2


async def test_todays_earlier_bookings_drop_out_with_the_lead_time(env: ClinicEnv) -> None:
    today = date(2026, 11, 29)
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow, ct_places=2)
        await uow.commit()
        await book(uow, 0, dept.ct_brain, dept.ct, at(today, 10, 30), confirm=True)
        before = (await days_as_listed(uow, dept.ct_brain))[today]
        env.clock.advance(hours=1)  # 09:00: the first start left is 11:00
        after = (await days_as_listed(uow, dept.ct_brain))[today]
    assert before == 14 * 2 - 1  # 10:00-13:15, one place taken at 10:30
    assert after == 10 * 2  # 11:00-13:15; the 10:30 booking is no longer in the count


async def test_an_expired_hold_counts_as_free_before_the_sweep(env: ClinicEnv) -> None:
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        await uow.commit()
        slots = [at(MONDAY, 7, 30) + timedelta(minutes=15 * i) for i in range(24)]
        for n, start in enumerate(slots):
            await book(uow, n, dept.ct_brain, dept.ct, start, confirm=n >= 2)
        assert MONDAY not in await days_as_listed(uow, dept.ct_brain)
        env.clock.advance(minutes=11)  # the two holds ran out; nothing has swept them
        listed = await days_as_listed(uow, dept.ct_brain)
    assert listed[MONDAY] == 2


async def test_old_bookings_outside_a_shortened_shift_are_not_counted(env: ClinicEnv) -> None:
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        await uow.commit()
        await book(uow, 0, dept.ct_brain, dept.ct, at(MONDAY, 12), confirm=True)
        await book(uow, 1, dept.ct_brain, dept.ct, at(MONDAY, 9), confirm=True)
        await _set_monday(uow, dept, (time(7, 30), time(11, 0)))
        listed = await days_as_listed(uow, dept.ct_brain)
    assert listed[MONDAY] == 14 - 1  # 07:30-11:00 is 14 starts; only the 09:00 booking is in


async def test_shifts_that_meet_are_counted_across_the_seam(env: ClinicEnv) -> None:
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        await uow.commit()
        await _set_monday(uow, dept, (time(7, 30), time(13, 30)), (time(13, 30), time(16, 0)))
        for n, (hh, mm) in enumerate([(13, 15), (13, 30), (15, 45)]):
            await book(uow, n, dept.ct_brain, dept.ct, at(MONDAY, hh, mm), confirm=True)
        brain = await days_as_listed(uow, dept.ct_brain)
        contrast = await days_as_listed(uow, dept.ct_contrast)
    assert brain[MONDAY] == 24 + 10 - 3
    assert MONDAY in contrast


async def test_an_exam_on_devices_with_different_slots_counts_both(env: ClinicEnv) -> None:
    # The contrast CT takes two 15-minute CT slots but one 30-minute MRI slot.
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        uow.session.add(DeviceExam(device_id=dept.mri.id, exam_id=dept.ct_contrast.id))
        await uow.commit()
        await book(uow, 0, dept.ct_contrast, dept.mri, at(MONDAY, 9), confirm=True)
        await book(uow, 1, dept.ct_contrast, dept.ct, at(MONDAY, 9), confirm=True)
        listed = await days_as_listed(uow, dept.ct_contrast)
        mri_times = await bookable_times(uow, dept.mri_knee.id, MONDAY)
    ct_starts = 23 - 3  # a start at 08:45, 09:00 or 09:15 would need the booked 09:00 slot
    assert listed[MONDAY] == ct_starts // 2 + len(mri_times)


async def test_a_busy_fortnight_lists_what_its_days_promise(env: ClinicEnv) -> None:
    # Patients take, keep, cancel and abandon times at random between two closures.
    rng = random.Random(9)
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow, ct_places=3)
        await close(
            uow, ADMIN, ClosureRequest(dept.ct.id, at(TUESDAY, 11), at(TUESDAY, 12), "سرویس")
        )
        await uow.commit()
        for n in range(40):
            exam = rng.choice([dept.ct_brain, dept.ct_contrast])
            times = await bookable_times(uow, exam.id, MONDAY + timedelta(days=rng.randrange(9)))
            if not times:
                continue
            patient = await add_patient(uow, n)
            me = Actor.patient(patient)
            referral = await approved_referral(uow, patient, exam)
            t = rng.choice(times)
            held = await hold_slot(uow, me, referral, t.device_id, t.starts_at, hold_minutes=30)
            if rng.random() < 0.7:
                await confirm_booking(uow, me, held.id)
            if rng.random() < 0.15:
                await cancel_booking(uow, ADMIN, held.id, reason="staff")
            await uow.commit()
            env.clock.advance(minutes=rng.choice([0, 1, 20]))
        brain = await days_as_listed(uow, dept.ct_brain)
        await days_as_listed(uow, dept.ct_contrast)
        await close(uow, ADMIN, ClosureRequest(dept.ct.id, at(MONDAY, 7), at(MONDAY, 10), "برق"))
        await uow.commit()  # the closure moved Monday morning's bookings to free times
        await days_as_listed(uow, dept.ct_brain)
        await assert_day_totals_match_the_rows(uow)
    assert TUESDAY in brain and len(brain) >= 10


async def test_a_hold_is_refused_where_the_day_list_shows_nothing(env: ClinicEnv) -> None:
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        await close(
            uow, ADMIN, ClosureRequest(dept.ct.id, at(TUESDAY, 9), at(TUESDAY, 10), "تعمیر")
        )
        patient = await add_patient(uow)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        await uow.commit()
        for start in (at(TUESDAY, 9, 45), at(MONDAY + timedelta(days=14), 9)):
            with pytest.raises(SlotUnavailable):
                await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, start)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(TUESDAY, 10))
    assert held.status == "held"


async def test_patients_swapping_days_at_once_both_get_their_new_time(env: ClinicEnv) -> None:
    # Each holds a time on one day, then at the same moment asks for a time on the other's
    # day: each gives back a place on one day and takes one on the other, in opposite orders.
    async with env.uow(TWO_WEEKS) as uow:
        dept = await build_department(uow)
        pairs = []
        for n in range(5):  # 08:00-12:00, and their half hours
            monday, tuesday = at(MONDAY, 8 + n), at(TUESDAY, 8 + n)
            pairs.append(
                (await _holding(uow, 2 * n, dept, monday), tuesday + timedelta(minutes=30))
            )
            pairs.append(
                (await _holding(uow, 2 * n + 1, dept, tuesday), monday + timedelta(minutes=30))
            )
        await uow.commit()

    async def move(patient: int, referral: int, starts_at: datetime) -> str:
        async with env.uow(TWO_WEEKS) as uow:
            held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, starts_at)
            await uow.commit()
            return held.status

    moves = [move(patient, referral, to) for (patient, referral), to in pairs]
    assert await asyncio.gather(*moves) == ["held"] * len(pairs)
    async with env.uow(TWO_WEEKS) as uow:
        await assert_day_totals_match_the_rows(uow)
        await days_as_listed(uow, dept.ct_brain)


async def _holding(
    uow: UnitOfWork, n: int, dept: Department, starts_at: datetime
) -> tuple[int, int]:
    """Patient ``n`` with a hold on ``starts_at``: (patient, referral)."""
    patient = await add_patient(uow, n)
    referral = await approved_referral(uow, patient, dept.ct_brain)
    await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, starts_at)
    return patient, referral


async def _set_monday(uow: UnitOfWork, dept: Department, *shifts: tuple[time, time]) -> None:
    """Staff change the CT's Monday hours (weekday 2 of the Iranian week)."""
    kept = [h for h in dept.ct.hours if h.weekday != 2]
    dept.ct.hours = kept + [WorkingHours(weekday=2, starts=s, ends=e) for s, e in shifts]
    await uow.commit()
