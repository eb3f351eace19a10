"""An exam's devices as weeks of shifts: plain values read in one query, for the day list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache, cached_property
from typing import Any

from sqlalchemy import Select, and_, bindparam, select

from clinic.capacity import slots_for
from clinic.errors import NotFound
from clinic.jalali import iran_weekday
from clinic.models import Device, DeviceExam, Exam, WorkingHours
from clinic.uow import UnitOfWork

Shifts = tuple[tuple[int, time, time], ...]  # (Iranian weekday, starts, ends), sorted


@dataclass(frozen=True)
class Week:
    """Devices with the same shifts, slot length and places: one computation serves them all."""

    devices: tuple[int, ...]
    step: timedelta
    places: int
    shifts: Shifts

    @cached_property
    def _by_weekday(self) -> dict[int, list[tuple[timedelta, timedelta]]]:
        by_weekday: dict[int, list[tuple[timedelta, timedelta]]] = defaultdict(list)
        for weekday, starts, ends in self.shifts:
            by_weekday[weekday].append((_since_midnight(starts), _since_midnight(ends)))
        return dict(by_weekday)

    def on(self, day: date) -> list[tuple[timedelta, timedelta]]:
        """The shifts worked on ``day``, as time since midnight (start, end)."""
        return self._by_weekday.get(iran_weekday(day), [])


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


async def one_slot_weeks(uow: UnitOfWork, exam_id: int) -> tuple[list[Week], bool]:
    """The weeks of the active devices on which the active exam fits one slot, and whether
    other active devices perform it in several slots.

    Raises NotFound when the exam does not exist or is not active.
    """
    rows = (await uow.session.execute(_setup(), {"exam_id": exam_id})).tuples().all()
    if not rows:
        raise NotFound()
    setups: dict[tuple[int, int, int], list[tuple[int, time, time]]] = defaultdict(list)
    for _, device, minutes, places, weekday, starts, ends in rows:
        if device is not None:
            shifts = setups[(device, minutes, places)]
            if weekday is not None:
                shifts.append((weekday, starts, ends))
    duration = rows[0][0]
    alike: dict[tuple[int, int, Shifts], list[int]] = defaultdict(list)
    for (device, minutes, places), shifts in setups.items():
        if slots_for(duration, minutes) == 1:
            alike[(minutes, places, tuple(sorted(shifts)))].append(device)
    weeks = [
        Week(tuple(sorted(ids)), timedelta(minutes=minutes), places, shifts)
        for (minutes, places, shifts), ids in alike.items()
    ]
    return weeks, sum(len(w.devices) for w in weeks) < len(setups)


@cache
def _setup() -> Select[Any]:
    # Built once: the day list asks on every call, and building the clause costs more.
    active_device = and_(Device.id == DeviceExam.device_id, Device.active.is_(True))
    return (
        select(Exam.duration_minutes, Device.id, Device.slot_minutes, Device.places_per_slot)
        .add_columns(WorkingHours.weekday, WorkingHours.starts, WorkingHours.ends)
        .select_from(Exam)
        .outerjoin(DeviceExam, DeviceExam.exam_id == Exam.id)
        .outerjoin(Device, active_device)
        .outerjoin(WorkingHours, WorkingHours.device_id == Device.id)
        .where(Exam.id == bindparam("exam_id"), Exam.active.is_(True))
    )
