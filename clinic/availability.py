"""Bookable days and times for an exam: working hours less closures, holidays and full slots."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from clinic.calendar import day_overrides, department_open
from clinic.errors import NotFound
from clinic.jalali import format_day_short, iran_weekday, tehran_datetime, to_tehran
from clinic.models import Booking, BookingStatus, Closure, Device, DeviceExam, Exam, SlotUsage
from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class BookableTime:
    """One start time on one device, with the places still free there."""

    device_id: int
    device_code: str
    starts_at: datetime
    free: int
    slots: int = 1  # consecutive slots the exam occupies from here


@dataclass(frozen=True)
class BookableDay:
    """A day with at least one free place, and about how many more exams of this kind fit."""

    day: date
    free: int

    def label(self, lang: str) -> str:
        """Short Jalali label, e.g. «شنبه ۸ آذر»."""
        return format_day_short(self.day, lang)


def slots_needed(exam: Exam, device: Device) -> int:
    """How many consecutive slots of ``device`` the exam occupies."""
    return max(1, math.ceil(exam.duration_minutes / device.slot_minutes))


def slot_starts(device: Device, day: date, count: int) -> list[datetime]:
    """Start times on ``day`` at which ``count`` consecutive slots fit inside one shift."""
    step = timedelta(minutes=device.slot_minutes)
    starts: list[datetime] = []
    for shift in device.hours:
        if shift.weekday != iran_weekday(day):
            continue
        start, end = tehran_datetime(day, shift.starts), tehran_datetime(day, shift.ends)
        while start + step * count <= end:
            starts.append(start)
            start += step
    return sorted(starts)


async def exam_devices(uow: UnitOfWork, exam_id: int) -> tuple[Exam, list[Device]]:
    """The active exam and the active devices that perform it (with their hours)."""
    exam = await uow.session.get(Exam, exam_id)
    if exam is None or not exam.active:
        raise NotFound()
    devices = await uow.session.scalars(
        select(Device)
        .join(DeviceExam, DeviceExam.device_id == Device.id)
        .where(DeviceExam.exam_id == exam_id, Device.active.is_(True))
        .options(selectinload(Device.hours))
        .order_by(Device.code)
    )
    return exam, list(devices)


class _Occupancy:
    """Places used per (device, slot start), closures, and expired holds not yet released."""

    def __init__(self) -> None:
        self.used: dict[tuple[int, datetime], int] = {}
        self.capacity: dict[tuple[int, datetime], int] = {}
        self.closures: list[tuple[int | None, datetime, datetime]] = []

    def free(self, device: Device, start: datetime) -> int:
        key = (device.id, start)
        return self.capacity.get(key, device.places_per_slot) - self.used.get(key, 0)

    def closed(self, device_id: int, start: datetime, end: datetime) -> bool:
        return any(
            (dev is None or dev == device_id) and c_start < end and start < c_end
            for dev, c_start, c_end in self.closures
        )


async def _occupancy(
    uow: UnitOfWork, device_ids: list[int], first: datetime, last: datetime
) -> _Occupancy:
    occ = _Occupancy()
    usage = await uow.session.scalars(
        select(SlotUsage).where(
            SlotUsage.device_id.in_(device_ids),
            SlotUsage.starts_at >= first,
            SlotUsage.starts_at < last,
        )
    )
    for row in usage:
        occ.used[(row.device_id, row.starts_at)] = row.used
        occ.capacity[(row.device_id, row.starts_at)] = row.capacity
    await _discount_expired_holds(uow, occ, device_ids, first, last)
    closures = await uow.session.scalars(
        select(Closure).where(
            or_(Closure.device_id.is_(None), Closure.device_id.in_(device_ids)),
            Closure.cancelled_at.is_(None),
            Closure.starts_at < last,
            Closure.ends_at > first,
        )
    )
    occ.closures = [(c.device_id, c.starts_at, c.ends_at) for c in closures]
    return occ


async def _discount_expired_holds(
    uow: UnitOfWork, occ: _Occupancy, device_ids: list[int], first: datetime, last: datetime
) -> None:
    # An expired hold still counts in slot_usage until the sweep releases it; it is free.
    expired = await uow.session.scalars(
        select(Booking).where(
            Booking.device_id.in_(device_ids),
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at <= uow.clock.now(),
            and_(Booking.starts_at >= first - timedelta(days=1), Booking.starts_at < last),
        )
    )
    steps: dict[int, int] = {}
    for booking in expired:
        step = steps.get(booking.device_id)
        if step is None:
            device = await uow.session.get(Device, booking.device_id)
            step = steps[booking.device_id] = device.slot_minutes if device else 0
        for i in range(booking.slots):
            key = (booking.device_id, booking.starts_at + timedelta(minutes=step * i))
            occ.used[key] = occ.used.get(key, 0) - 1


async def bookable_times_range(
    uow: UnitOfWork, exam_id: int, first: date, last: date
) -> dict[date, list[BookableTime]]:
    """Every bookable start for the exam on days ``first..last`` (Tehran dates)."""
    exam, devices = await exam_devices(uow, exam_id)
    if not devices:
        return {}
    earliest = uow.clock.now() + timedelta(minutes=uow.policy.min_lead_minutes)
    overrides = await day_overrides(uow, first, last)
    window = (
        tehran_datetime(first, time.min),
        tehran_datetime(last + timedelta(days=1), time.min),
    )
    occ = await _occupancy(uow, [d.id for d in devices], *window)
    result: dict[date, list[BookableTime]] = defaultdict(list)
    day = first
    while day <= last:
        if department_open(day, overrides, observe_holidays=uow.policy.observe_holidays):
            for device in devices:
                result[day].extend(_device_times(device, exam, day, earliest, occ))
            result[day].sort(key=lambda t: (t.starts_at, t.device_code))
        day += timedelta(days=1)
    return {d: times for d, times in result.items() if times}


def _device_times(
    device: Device, exam: Exam, day: date, earliest: datetime, occ: _Occupancy
) -> list[BookableTime]:
    count = slots_needed(exam, device)
    step = timedelta(minutes=device.slot_minutes)
    times = []
    for start in slot_starts(device, day, count):
        if start < earliest or occ.closed(device.id, start, start + step * count):
            continue
        free = min(occ.free(device, start + step * i) for i in range(count))
        if free > 0:
            times.append(BookableTime(device.id, device.code, start, free, count))
    return times


def today(uow: UnitOfWork) -> date:
    """Today's date in Tehran."""
    return to_tehran(uow.clock.now()).date()


async def bookable_days(
    uow: UnitOfWork, exam_id: int, *, days: int | None = None
) -> list[BookableDay]:
    """The next ``days`` (default: the policy horizon) that have a free place, earliest first."""
    first = today(uow)
    last = first + timedelta(days=(days or uow.policy.horizon_days) - 1)
    times = await bookable_times_range(uow, exam_id, first, last)
    return [BookableDay(day, _exams_that_fit(slots)) for day, slots in sorted(times.items())]


def _exams_that_fit(times: list[BookableTime]) -> int:
    # A 30-minute exam on 15-minute slots has two start times per free half hour: count
    # the free slot-places per device and divide by the slots one exam needs.
    per_device: dict[int, tuple[int, int]] = {}
    for t in times:
        places, count = per_device.get(t.device_id, (0, t.slots))
        per_device[t.device_id] = (places + t.free, count)
    return max(1, sum(places // count for places, count in per_device.values()))


async def bookable_times(uow: UnitOfWork, exam_id: int, day: date) -> list[BookableTime]:
    """Free start times for the exam on one day (empty when the day is closed or full)."""
    first = today(uow)
    if not first <= day < first + timedelta(days=uow.policy.horizon_days):
        return []
    return (await bookable_times_range(uow, exam_id, day, day)).get(day, [])


async def is_bookable(uow: UnitOfWork, exam_id: int, device_id: int, starts_at: datetime) -> bool:
    """Whether the exam may start on this device at this time right now."""
    day = to_tehran(starts_at).date()
    return any(
        t.device_id == device_id and t.starts_at == starts_at
        for t in await bookable_times(uow, exam_id, day)
    )
