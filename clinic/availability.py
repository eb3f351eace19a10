"""Bookable days and times for an exam: working hours less closures, holidays and full slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from clinic.calendar import open_days
from clinic.capacity import slots_for
from clinic.department_setup import DeviceView, ExamView, department_setup
from clinic.device_weeks import one_slot_weeks
from clinic.free_places import free_places
from clinic.jalali import format_day_short, iran_weekday, tehran_datetime, to_tehran
from clinic.keeps import spare_per_day, spare_per_slot
from clinic.occupancy import Occupancy, load_occupancy, local_window

if TYPE_CHECKING:
    from clinic.models import Keep
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


def slots_needed(exam: ExamView, device: DeviceView) -> int:
    """How many consecutive slots of ``device`` the exam occupies."""
    return slots_for(exam.duration_minutes, device.slot_minutes)


def slot_starts(device: DeviceView, day: date, count: int) -> list[datetime]:
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


async def exam_devices(
    uow: UnitOfWork, exam_id: int, *, only: int | None = None, site: int | None = None
) -> tuple[ExamView, list[DeviceView]]:
    """The active exam and the active devices that perform it (with their hours), by code;
    with ``only``, just that one of them (or none); with ``site``, that site's only. Raises
    NotFound."""
    setup = await department_setup(uow)
    exam = setup.active_exam(exam_id)
    devices = setup.devices_for(exam_id, site)
    if only is not None:
        devices = [d for d in devices if d.id == only]
    return exam, devices


async def bookable_times_range(
    uow: UnitOfWork,
    exam_id: int,
    first: date,
    last: date,
    *,
    keep: Keep | None = None,
    earliest: datetime | None = None,
    site: int | None = None,
) -> dict[date, list[BookableTime]]:
    """Every bookable start for the exam on days ``first..last`` (Tehran dates), for an
    ordinary booking or one for ``keep`` (which may use the places kept back for it), from
    ``earliest`` on (default: now plus the lead time), at ``site`` (None: at every site)."""
    exam, devices = await exam_devices(uow, exam_id, site=site)
    return await _times(uow, exam, devices, first, last, keep=keep, earliest=earliest)


async def _times(
    uow: UnitOfWork,
    exam: ExamView,
    devices: list[DeviceView],
    first: date,
    last: date,
    *,
    places: bool = True,
    keep: Keep | None = None,
    earliest: datetime | None = None,
) -> dict[date, list[BookableTime]]:
    if not devices:
        return {}
    earliest = earliest or earliest_start(uow)
    days = await open_days(uow, first, last)
    occ = await load_occupancy(uow, devices, *local_window(first, last), places=places)
    result: dict[date, list[BookableTime]] = {}
    for day in days:
        times = [
            t
            for device in devices
            for t in _device_times(device, exam, day, earliest, occ, keep if places else None)
        ]
        if times:
            times.sort(key=lambda t: (t.starts_at, t.device_code))
            result[day] = times
    return result


def _device_times(
    device: DeviceView,
    exam: ExamView,
    day: date,
    earliest: datetime,
    occ: Occupancy,
    keep: Keep | None = None,
) -> list[BookableTime]:
    count = slots_needed(exam, device)
    step = timedelta(minutes=device.slot_minutes)
    dev, code, places, left = device.id, device.code, device.places_per_slot, occ.left
    shut = [(c_start, c_end) for d, c_start, c_end in occ.closures if d is None or d == dev]
    spare = spare_per_slot(device, keep) if device.kept else 0
    times = []
    for start in slot_starts(device, day, count):
        # Compared and looked up in UTC, as the rows are: mixing two time zones is slow.
        at = start.astimezone(UTC)
        end = at + step * count
        if at < earliest or any(c_start < end and at < c_end for c_start, c_end in shut):
            continue
        free = min(left.get((dev, at + step * i), places) for i in range(count)) - spare
        if free > 0:
            times.append(BookableTime(dev, code, start, free, count))
    if times and device.kept and spare_per_day(device, keep):
        # The day's last places are kept: none of its times while taking one would reach them.
        day_free = sum(
            max(0, left.get((dev, s.astimezone(UTC)), places) - spare)
            for s in slot_starts(device, day, 1)
            if s.astimezone(UTC) >= earliest
        )
        if day_free - count < spare_per_day(device, keep):
            return []
    return times


async def day_free(
    uow: UnitOfWork,
    device: DeviceView,
    moment: datetime,
    keep: Keep | None = None,
    earliest: datetime | None = None,
) -> int:
    """Free places left on ``device`` on the day of ``moment`` from ``earliest`` on (default:
    now plus the lead time), less the places each slot keeps back for purposes other than
    ``keep``; the transaction's own takes count."""
    day = to_tehran(moment).date()
    start = earliest or earliest_start(uow)
    occ = await load_occupancy(uow, [device], *local_window(day, day))
    spare = spare_per_slot(device, keep)
    return sum(
        max(0, occ.left.get((device.id, s.astimezone(UTC)), device.places_per_slot) - spare)
        for s in slot_starts(device, day, 1)
        if s.astimezone(UTC) >= start
    )


def earliest_start(uow: UnitOfWork) -> datetime:
    """The first moment a new booking may start: now plus the policy's lead time."""
    return uow.clock.now() + timedelta(minutes=uow.policy.min_lead_minutes)


def today(uow: UnitOfWork) -> date:
    """Today's date in Tehran."""
    return to_tehran(uow.clock.now()).date()


async def bookable_days(
    uow: UnitOfWork, exam_id: int, *, days: int | None = None, site: int | None = None
) -> list[BookableDay]:
    """The next ``days`` (default: the policy horizon) that have a free place at ``site``
    (None: at any), earliest first."""
    first = today(uow)
    last = first + timedelta(days=(days or uow.policy.horizon_days) - 1)
    # Where the exam fits one slot, a day's places are counted from the devices' day totals
    # (clinic/free_places.py); where it takes several, each start is checked.
    weeks, longer = await one_slot_weeks(uow, exam_id, site)
    fit = await free_places(uow, weeks, first, last, earliest_start(uow)) if weeks else {}
    if longer:
        exam, devices = await exam_devices(uow, exam_id, site=site)
        # Exams of several slots, and devices keeping places back, are counted start by start.
        several = [d for d in devices if slots_needed(exam, d) > 1 or d.kept]
        for day, times in (await _times(uow, exam, several, first, last)).items():
            fit[day] = fit.get(day, 0) + _exams_that_fit(times)
    return [BookableDay(day, max(1, fit[day])) for day in sorted(fit)]


def _exams_that_fit(times: list[BookableTime]) -> int:
    # A 30-minute exam on 15-minute slots has two start times per free half hour: count
    # the free slot-places per device and divide by the slots one exam needs.
    per_device: dict[int, tuple[int, int]] = {}
    for t in times:
        places, count = per_device.get(t.device_id, (0, t.slots))
        per_device[t.device_id] = (places + t.free, count)
    return sum(places // count for places, count in per_device.values())


async def bookable_times(
    uow: UnitOfWork, exam_id: int, day: date, *, site: int | None = None
) -> list[BookableTime]:
    """Free start times for the exam on one day at ``site`` (None: at any); empty when the
    day is closed or full."""
    first = today(uow)
    if not first <= day < first + timedelta(days=uow.policy.horizon_days):
        return []
    return (await bookable_times_range(uow, exam_id, day, day, site=site)).get(day, [])


async def is_bookable(
    uow: UnitOfWork,
    exam_id: int,
    device_id: int,
    starts_at: datetime,
    *,
    places: bool = True,
    keep: Keep | None = None,
    earliest: datetime | None = None,
    site: int | None = None,
) -> bool:
    """Whether the exam may start on this device (of ``site``, when given) at this time right
    now; without ``places``, whether it could if a place were free (the caller takes the
    places atomically)."""
    day = to_tehran(starts_at).date()
    first = today(uow)
    if not first <= day < first + timedelta(days=uow.policy.horizon_days):
        return False
    # Only this device's times matter: neither the others nor their rows need be read.
    exam, device = await exam_devices(uow, exam_id, only=device_id, site=site)
    times = await _times(uow, exam, device, day, day, places=places, keep=keep, earliest=earliest)
    return any(t.starts_at == starts_at for t in times.get(day, []))
