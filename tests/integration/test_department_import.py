"""Importing and exporting the department file on a real database, bookings and all."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.availability import bookable_times
from clinic.booking import confirm_booking, hold_slot
from clinic.closures import ClosureRequest, close
from clinic.demo import seed_demo
from clinic.department_export import export_department
from clinic.department_file import DepartmentFileError
from clinic.department_import import StrandedBookings, import_department
from clinic.errors import SlotFull, SlotUnavailable
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import (
    Booking,
    BookingStatus,
    Closure,
    Department,
    Device,
    DeviceExam,
    Exam,
    KeptPlaces,
    OutboxMessage,
    SlotDay,
    SlotUsage,
    WorkingHours,
)
from tests.factories import ADMIN, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)  # 1405/09/09; the clock stands on Sunday 08:00
SYSTEM = Actor.system()


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def counts(uow: UnitOfWork) -> list[int]:
    tables = (Device, WorkingHours, DeviceExam, KeptPlaces, Closure, Department, Booking)
    return [await uow.session.scalar(select(func.count()).select_from(t)) or 0 for t in tables]


async def exported(env: ClinicEnv) -> str:
    async with env.uow() as uow:
        return await export_department(uow)


async def booked(env: ClinicEnv, n: int, exam: str, device: str, starts_at: datetime) -> int:
    """Patient ``n`` books ``exam`` on ``device`` (codes) at ``starts_at``; the booking's id."""
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        referral = await approved_referral(uow, patient, await _exam(uow, exam))
        held = await hold_slot(
            uow, Actor.patient(patient), referral, await _device(uow, device), starts_at
        )
        await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
        return held.id


async def _exam(uow: UnitOfWork, code: str) -> Exam:
    return (await uow.session.scalars(select(Exam).where(Exam.code == code))).one()


async def _device(uow: UnitOfWork, code: str) -> int:
    return (await uow.session.scalars(select(Device.id).where(Device.code == code))).one()


@pytest.fixture
async def built(env: ClinicEnv) -> ClinicEnv:
    async with env.uow() as uow:
        await build_department(uow, ct_places=2)
        await uow.commit()
    return env


async def test_export_then_import_changes_nothing(built: ClinicEnv) -> None:
    env = built
    async with env.uow() as uow:
        ct = await uow.session.scalar(select(Device.id).where(Device.code == "CT-1"))
        request = ClosureRequest(ct, at(MONDAY, 8), at(MONDAY, 10), "سرویس دستگاه", "service")
        await close(uow, ADMIN, request)
        await uow.commit()
    first = await exported(env)
    assert "from: 1405/09/09 08:00" in first and "to: 1405/09/09 10:00" in first
    async with env.uow() as uow:
        before = await counts(uow)
        result = await import_department(uow, SYSTEM, first)
        await uow.commit()
    assert (result.created, result.changed, result.closures) == ([], [], 0)
    assert sorted(result.unchanged) == ["CT-1", "MRI-1"]
    async with env.uow() as uow:
        after = await counts(uow)
    assert after[:5] == before[:5]  # devices, hours, exams, kept places, closures
    assert after[5] == 1  # the department's own row, named as exported
    assert await exported(env) == first


async def test_the_demo_department_round_trips(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    text = await exported(env)
    assert "code: bojnurd-imam-reza" in text and "days: [sat, sun, mon, tue, wed]" in text
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, text)
        await uow.commit()
    assert (len(result.unchanged), result.changed, result.created) == (9, [], [])
    assert await exported(env) == text


async def test_a_device_added_by_the_file(built: ClinicEnv) -> None:
    text = await exported(built)
    device = """\
    - code: US-1
      modality: US
      name_fa: سونوگرافی
      name_en: Ultrasound
      room_fa: اتاق ۲۰۱
      floor: 1
      slot_minutes: 20
      places_per_slot: 1
      exams: all
      shifts:
      - days: [sat-wed]
        hours: ['07:30-13:30']
      kept_back:
      - for: walk_in
        places: 3
        per: day
"""
    text = text.replace("    closed:", device + "    closed:")
    async with built.uow() as uow:
        result = await import_department(uow, SYSTEM, text)
        await uow.commit()
    assert result.created == ["US-1"]
    async with built.uow() as uow:
        us = await uow.session.scalar(select(Device).where(Device.code == "US-1"))
        assert us is not None and (us.floor, us.slot_minutes) == (1, 20)
        hours = await uow.session.scalar(
            select(func.count()).select_from(WorkingHours).where(WorkingHours.device_id == us.id)
        )
        kept = list(await uow.session.scalars(select(KeptPlaces)))
    assert hours == 5
    assert [(k.keep, k.per, k.places) for k in kept] == [("walk_in", "day", 3)]
    assert "US-1" in await exported(built)


async def test_hours_taken_away_under_a_booking_refuse_then_move_it(built: ClinicEnv) -> None:
    env = built
    booking_id = await booked(env, 1, "MRI-KNEE", "MRI-1", at(MONDAY, 15))  # the evening shift
    text = await exported(env)
    mornings = text.replace("hours: ['07:30-13:30', '15:00-21:00']", "hours: ['07:30-13:30']")
    assert mornings != text
    async with env.uow() as uow:
        before = await counts(uow)
        with pytest.raises(StrandedBookings) as refused:
            await import_department(uow, SYSTEM, mornings)
    (stranded,) = refused.value.stranded
    assert (stranded.booking_id, stranded.device) == (booking_id, "MRI-1")
    assert (stranded.starts_at, stranded.why) == (at(MONDAY, 15), "outside the new working hours")
    async with env.uow() as uow:
        assert await counts(uow) == before  # nothing changed

    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, mornings, move=True)
        await uow.commit()
    assert (result.changes, result.moved, result.cancelled) == (["MRI-1: shifts"], 1, 0)
    async with env.uow() as uow:
        old = await uow.session.get_one(Booking, booking_id)
        new = await uow.session.scalar(select(Booking).where(Booking.replaces_id == booking_id))
        assert new is not None
        notices = list(
            await uow.session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.booking_id == new.id)
            )
        )
        monday = await bookable_times(uow, (await _exam(uow, "MRI-KNEE")).id, MONDAY)
    assert (old.status, old.cancel_reason) == (BookingStatus.RESCHEDULED, "setup")
    assert new.status == BookingStatus.CONFIRMED
    local = to_tehran(new.starts_at)
    assert time(7, 30) <= local.time() < time(13, 30)  # a morning, as the new hours say
    assert "closure_moved" in notices
    assert all(to_tehran(t.starts_at).hour < 14 for t in monday)  # no evening times offered


async def test_fewer_places_strand_the_later_booking_and_the_counts_follow(
    built: ClinicEnv,
) -> None:
    env = built
    first = await booked(env, 1, "CT-BRAIN", "CT-1", at(MONDAY, 9))
    second = await booked(env, 2, "CT-BRAIN", "CT-1", at(MONDAY, 9))  # CT has 2 places a slot
    one_place = (await exported(env)).replace("places_per_slot: 2", "places_per_slot: 1")
    async with env.uow() as uow:
        with pytest.raises(StrandedBookings) as refused:
            await import_department(uow, SYSTEM, one_place)
    assert [(s.booking_id, s.why) for s in refused.value.stranded] == [
        (second, "fewer places per slot")
    ]
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, one_place, move=True)
        await uow.commit()
    assert result.moved == 1
    async with env.uow() as uow:
        ct = await _device(uow, "CT-1")
        usage = await uow.session.get_one(SlotUsage, (ct, at(MONDAY, 9)))
        assert (usage.used, usage.capacity) == (1, 1)
        kept = await uow.session.get_one(Booking, first)
        assert kept.status == BookingStatus.CONFIRMED
        # The day totals agree with the counter rows they sum.
        for day in await uow.session.scalars(select(SlotDay).where(SlotDay.device_id == ct)):
            rows = list(
                await uow.session.execute(
                    select(SlotUsage.used, SlotUsage.capacity, SlotUsage.starts_at).where(
                        SlotUsage.device_id == ct
                    )
                )
            )
            mine = [r for r in rows if to_tehran(r.starts_at).date() == day.day]
            assert (day.slots, day.places_left) == (
                len(mine),
                sum(r.capacity - r.used for r in mine),
            )
        patient = await add_patient(uow, 3)
        referral = await approved_referral(uow, patient, await _exam(uow, "CT-BRAIN"))
        with pytest.raises((SlotFull, SlotUnavailable)):
            await hold_slot(uow, Actor.patient(patient), referral, ct, at(MONDAY, 9))


async def test_a_closed_range_in_the_file_moves_the_bookings_it_covers(built: ClinicEnv) -> None:
    env = built
    booking_id = await booked(env, 1, "CT-BRAIN", "CT-1", at(MONDAY, 9))
    closed = """\
    - from: 1405/09/09
      device: CT-1
      reason_fa: تعمیر دستگاه
      reason_en: repairs
"""
    text = (await exported(env)).replace("    closed: []\n", "    closed:\n" + closed)
    async with env.uow() as uow:
        with pytest.raises(StrandedBookings) as refused:
            await import_department(uow, SYSTEM, text)
    assert [(s.booking_id, s.why) for s in refused.value.stranded] == [
        (booking_id, "a new closed range")
    ]
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, text, move=True)
        await uow.commit()
    assert (result.closures, result.moved) == (1, 1)
    async with env.uow() as uow:
        closure = await uow.session.scalar(select(Closure))
        old = await uow.session.get_one(Booking, booking_id)
    assert closure is not None and closure.reason_en == "repairs"
    assert to_tehran(closure.ends_at) - to_tehran(closure.starts_at) == timedelta(days=1)
    assert (old.status, old.closure_id) == (BookingStatus.RESCHEDULED, closure.id)
    again = await exported(env)
    assert "from: 1405/09/09\n" in again and "to: 1405/09/09\n" in again
    async with env.uow() as uow:
        second = await import_department(uow, SYSTEM, again)
    assert second.closures == 0  # recorded once


async def test_the_catalogue_and_the_database_are_checked_too(built: ClinicEnv) -> None:
    env = built
    text = await exported(env)
    wrong = text.replace("  exams: all\n", "  exams: [CT-NOPE, MRI-KNEE]\n", 1)
    lines = wrong.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "CT-NOPE" in t)
    async with env.uow() as uow:
        before = await counts(uow)
        with pytest.raises(DepartmentFileError) as bad:
            await import_department(uow, SYSTEM, wrong)
        assert await counts(uow) == before
    assert bad.value.problems == [
        (line, "exam MRI-KNEE is MR, not CT"),
        (line, "there is no exam CT-NOPE in the catalogue"),
    ]
    without_mri = text[: text.index("    - code: MRI-1")] + text[text.index("    closed:") :]
    async with env.uow() as uow:
        with pytest.raises(DepartmentFileError) as missing:
            await import_department(uow, SYSTEM, without_mri)
    keep = "keep it in the file (active: false retires it)"
    assert missing.value.problems == [
        (1, f"device MRI-1 is in the database but not in the file: {keep}"),
    ]


async def test_a_retired_device_strands_its_bookings(built: ClinicEnv) -> None:
    env = built
    booking_id = await booked(env, 1, "MRI-KNEE", "MRI-1", at(MONDAY, 9))
    text = await exported(env)
    retired = text.replace("    - code: MRI-1\n", "    - code: MRI-1\n      active: false\n")
    async with env.uow() as uow:
        with pytest.raises(StrandedBookings) as refused:
            await import_department(uow, SYSTEM, retired)
    assert [(s.booking_id, s.why) for s in refused.value.stranded] == [
        (booking_id, "the device is retired")
    ]
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, retired, move=True)
        await uow.commit()
    assert (result.moved, result.cancelled) == (0, 1)  # no other device performs MRI-KNEE
    async with env.uow() as uow:
        notices = list(
            await uow.session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking_id)
            )
        )
    assert "closure_cancelled" in notices
    assert "active: false" in await exported(env)


async def test_the_devices_as_csv_round_trip_and_name_their_rows(built: ClinicEnv) -> None:
    env = built
    async with env.uow() as uow:
        table = await export_department(uow, fmt="csv")
    header, ct, mri = table.splitlines()
    assert mri.startswith("MRI-1,MR,")
    assert header.startswith("code,modality,name_fa,name_en,room_fa")
    assert ct.startswith("CT-1,CT,") and "sat,sun,mon,tue,wed 07:30-13:30 | thu 07:30-12:30" in ct
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, table, fmt="csv")
    assert sorted(result.unchanged) == ["CT-1", "MRI-1"]
    fewer = table.replace(",2,all,", ",1,all,", 1).replace("15:00-21:00", "15:00-20:00")
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, fewer, fmt="csv")
        await uow.commit()
    assert sorted(result.changes) == ["CT-1: places per slot", "MRI-1: shifts"]
    broken = fewer.replace("MRI-1,MR,", "MRI-1,PET,").replace("CT-1,CT,", "CT-1,CT,x,", 1)
    async with env.uow() as uow:
        with pytest.raises(DepartmentFileError) as bad:
            await import_department(uow, SYSTEM, broken, fmt="csv")
    assert bad.value.problems == [
        (2, "this row has 14 columns; the header has 13"),
        (3, "unknown modality 'PET'; use one of CT, MR, CR, US, MG, RF, BMD"),
    ]
