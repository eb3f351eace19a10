"""Bookable days and times: Fridays, holidays, closures, lead time and full slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from clinic.availability import bookable_days, bookable_times
from clinic.closures import ClosureRequest, close, set_day
from clinic.jalali import TEHRAN
from clinic.policy import Policy
from tests.factories import ADMIN, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

SATURDAY = date(2026, 11, 28)  # 7 Azar 1405
FRIDAY = date(2026, 12, 4)


async def test_days_skip_fridays_and_show_free_places(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        days = await bookable_days(uow, dept.ct_brain.id, days=14)
    listed = [d.day for d in days]
    assert FRIDAY not in listed
    assert all(d.weekday() != 4 for d in listed)
    # A full Saturday-Wednesday CT morning: 07:30-13:30 in 15-minute slots = 24 places.
    monday = next(d for d in days if d.day == date(2026, 11, 30))
    assert monday.free == 24
    assert monday.label("fa") == "دوشنبه ۹ آذر"
    assert monday.label("en") == "Mon 9 Azar"


async def test_today_respects_the_minimum_lead_time(env: ClinicEnv) -> None:
    # The clock stands at Sunday 29 Nov 08:00 Tehran; the lead time is 120 minutes.
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        times = await bookable_times(uow, dept.ct_brain.id, date(2026, 11, 29))
    assert times[0].starts_at == datetime(2026, 11, 29, 10, 0, tzinfo=TEHRAN)
    assert all(t.starts_at >= datetime(2026, 11, 29, 10, 0, tzinfo=TEHRAN) for t in times)


async def test_official_holidays_are_closed_and_staff_can_reopen(env: ClinicEnv) -> None:
    # 16 Dec 2026 (25 Azar 1405) is not a holiday; 2027's Nowruz is outside the horizon, so use
    # the holidays package's date for the birthday of the Prophet in this horizon if any.
    import holidays

    calendar = holidays.country_holidays("IR", years=[2026, 2027], language="fa_IR")
    start = date(2026, 11, 29)
    in_horizon = sorted(d for d in calendar if start <= d < start + timedelta(days=30))
    assert in_horizon, "the test needs an official holiday within 30 days of its clock"
    holiday = next(d for d in in_horizon if d.weekday() != 4)
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        assert holiday not in [d.day for d in await bookable_days(uow, dept.ct_brain.id)]
        await set_day(uow, ADMIN, holiday, is_open=True, note="lunar date moved")
        await uow.commit()
        assert holiday in [d.day for d in await bookable_days(uow, dept.ct_brain.id)]


async def test_a_device_closure_removes_only_its_hours(env: ClinicEnv) -> None:
    day = date(2026, 11, 30)
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        request = ClosureRequest(
            dept.ct.id,
            datetime.combine(day, time(9, 0), tzinfo=TEHRAN),
            datetime.combine(day, time(11, 0), tzinfo=TEHRAN),
            "تعمیر دستگاه",
        )
        await close(uow, ADMIN, request)
        await uow.commit()
        ct_times = [
            t.starts_at.astimezone(TEHRAN).time()
            for t in await bookable_times(uow, dept.ct_brain.id, day)
        ]
        mri_times = await bookable_times(uow, dept.mri_knee.id, day)
    assert time(8, 45) in ct_times
    assert time(9, 0) not in ct_times
    assert time(10, 45) not in ct_times
    assert time(11, 0) in ct_times
    assert len(ct_times) == 24 - 8
    assert len(mri_times) == 24  # MRI morning and evening shifts: 12 + 12 half-hours


async def test_a_department_closure_closes_every_device(env: ClinicEnv) -> None:
    day = date(2026, 12, 1)
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        start = datetime.combine(day, time.min, tzinfo=TEHRAN)
        await close(
            uow, ADMIN, ClosureRequest(None, start, start + timedelta(days=1), "آلودگی هوا")
        )
        await uow.commit()
        assert await bookable_times(uow, dept.ct_brain.id, day) == []
        assert await bookable_times(uow, dept.mri_knee.id, day) == []
        assert day not in [d.day for d in await bookable_days(uow, dept.mri_knee.id)]


async def test_long_exams_need_consecutive_free_slots(env: ClinicEnv) -> None:
    # The contrast CT takes 30 minutes: two 15-minute CT slots; the last start is 13:00.
    day = date(2026, 11, 30)
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        times = await bookable_times(uow, dept.ct_contrast.id, day)
    local = [t.starts_at.astimezone(TEHRAN).time() for t in times]
    assert local[-1] == time(13, 0)
    assert len(local) == 23


async def test_horizon_limits_the_days(env: ClinicEnv) -> None:
    async with env.uow(Policy(horizon_days=7)) as uow:
        dept = await build_department(uow)
        await uow.commit()
        days = await bookable_days(uow, dept.ct_brain.id)
        beyond = await bookable_times(uow, dept.ct_brain.id, date(2026, 12, 20))
    assert max(d.day for d in days) <= date(2026, 12, 5)
    assert beyond == []
