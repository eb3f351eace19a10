"""An exam's devices as weeks of shifts, from the department's setup, for the day list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from clinic.capacity import slots_for
from clinic.department_setup import department_setup
from clinic.jalali import iran_weekday

if TYPE_CHECKING:
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


async def one_slot_weeks(
    uow: UnitOfWork, exam_id: int, site: int | None = None
) -> tuple[list[Week], bool]:
    """The weeks of the active devices on which the active exam fits one slot, and whether
    other active devices perform it (in several slots, or keeping places back); with ``site``,
    the devices of that site only.

    Raises NotFound when the exam does not exist or is not active.
    """
    setup = await department_setup(uow)
    duration = setup.active_exam(exam_id).duration_minutes
    devices = setup.devices_for(exam_id, site)
    alike: dict[tuple[int, int, Shifts], list[int]] = defaultdict(list)
    for device in devices:
        # A device keeping places back is counted start by start (clinic.availability).
        if slots_for(duration, device.slot_minutes) == 1 and not device.kept:
            shifts = tuple(sorted((s.weekday, s.starts, s.ends) for s in device.hours))
            alike[(device.slot_minutes, device.places_per_slot, shifts)].append(device.id)
    weeks = [
        Week(tuple(sorted(ids)), timedelta(minutes=minutes), places, shifts)
        for (minutes, places, shifts), ids in alike.items()
    ]
    return weeks, sum(len(w.devices) for w in weeks) < len(devices)
