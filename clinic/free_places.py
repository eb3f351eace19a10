"""Free places per day for an exam that fits one slot, from day totals or summed run by run.

Listing every start of a 60-day horizon costs a row and a Python object per slot; the day list
needs only each day's total. A run of consecutive starts on a device has ``starts x places``
places, less what the counter rows in that run hold back. When the run is the device's whole
day and holds all its rows, that comes from the day's totals (``clinic.day_counts``); where the
lead time, a closure or a change of hours cuts the day, one sum per run over the
``slot_usage`` index gives it. Either way the result is the per-slot listing's, summed: a
start's free places are never negative (the CHECK on ``slot_usage``), so a day's total is above
zero exactly when some start has a free place. Counter rows lie on their device's slot grid
(``capacity.take`` writes them at bookable starts, ``capacity.release`` finds them there again),
so the rows inside a run are the rows at its starts. Tehran keeps one UTC offset all year
(``clinic.jalali``), so a run's starts are equal steps in absolute time too.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, func, literal_column, select

from clinic import day_counts
from clinic.calendar import open_days
from clinic.db import UTCDateTime
from clinic.jalali import tehran_datetime, to_tehran, utc
from clinic.models import SlotUsage
from clinic.occupancy import expired_hold_slots, load_closures, local_window

if TYPE_CHECKING:
    from clinic.department_setup import ClosureSpan
    from clinic.device_weeks import Week
    from clinic.uow import UnitOfWork

RUNS_PER_STATEMENT = 200  # one column per run; PostgreSQL allows 1664 in a select list
DAY = timedelta(days=1)


class Run(NamedTuple):
    """Start times ``lo, lo + step, ..., hi`` (in UTC) on one Tehran day, on each of ``devices``.

    A named tuple: a busy horizon makes hundreds per call, and they are cheap to build. UTC,
    like the database's values: comparing datetimes of two time zones is slow."""

    devices: tuple[int, ...]
    day: date
    lo: datetime
    hi: datetime
    step: timedelta
    places: int

    @property
    def places_each(self) -> int:
        """Places on one device over the whole run."""
        return ((self.hi - self.lo) // self.step + 1) * self.places

    @property
    def places_in_all(self) -> int:
        """Places over the whole run on all its devices."""
        return self.places_each * len(self.devices)

    def has(self, moment: datetime) -> bool:
        """Whether ``moment`` is one of the run's starts."""
        return self.lo <= moment <= self.hi and (moment - self.lo) % self.step == timedelta(0)


async def free_places(
    uow: UnitOfWork, weeks: list[Week], first: date, last: date, earliest: datetime
) -> dict[date, int]:
    """Free places on each open day of ``first..last`` that has one, for a one-slot exam on
    the devices of ``weeks``, counting only starts from ``earliest`` on."""
    window = local_window(first, last)
    steps = {d: w.step // timedelta(minutes=1) for w in weeks for d in w.devices}
    closures = await load_closures(uow, list(steps), *window)
    totals = [await day_counts.by_day(uow, w.devices, w.places, first, last) for w in weeks]
    runs: dict[date, list[Run]] = {}
    to_sum: list[Run] = []
    free: Counter[date] = Counter()
    for day in await open_days(uow, first, last):
        midnight = utc(tehran_datetime(day, time.min))
        todays = [c for c in closures if c[1] < midnight + DAY and c[2] > midnight]
        runs[day] = []
        for week, week_totals in zip(weeks, totals, strict=True):
            day_runs = _day_runs(week, (day, midnight), earliest, todays)
            runs[day] += day_runs
            to_sum += _count_from_totals(week, day_runs, week_totals.get(day), free)
    for run, held_back in await _sums(uow, to_sum):
        free[run.day] += run.places_in_all + held_back
    for device_id, moment in await expired_hold_slots(uow, steps, *window):
        day = to_tehran(moment).date()
        free[day] += sum(device_id in r.devices and r.has(moment) for r in runs.get(day, []))
    return {day: n for day, n in sorted(free.items()) if n > 0}


def _count_from_totals(
    week: Week, runs: list[Run], total: day_counts.DayTotal | None, free: Counter[date]
) -> list[Run]:
    """Count into ``free`` a day of ``week`` that is one whole run holding all its devices'
    rows, from the day's ``total``; return the runs that must be summed row by row."""
    if len(runs) != 1 or runs[0].devices != week.devices:
        return runs  # a break between shifts, or a closure of one device
    run = runs[0]
    if total is None:
        free[run.day] += run.places_in_all
    elif run.lo <= total.first_start and total.last_start <= run.hi:
        free[run.day] += run.places_in_all + total.held_back
    else:  # rows before the lead time or in a closure, or outside changed hours
        return runs
    return []


def _day_runs(
    week: Week, day: tuple[date, datetime], earliest: datetime, todays: list[ClosureSpan]
) -> list[Run]:
    """The runs of ``week``'s devices on ``day`` (the date and its Tehran midnight in UTC;
    ``todays``: the closures that meet the day). A device with a closure of its own that day
    gets runs of its own."""
    own = sorted({dev for dev, _, _ in todays if dev is not None and dev in week.devices})
    everyone = [c for c in todays if c[0] is None]
    shared = tuple(d for d in week.devices if d not in own)
    runs = _runs(week, shared, day, earliest, everyone) if shared else []
    for device in own:
        mine = [c for c in todays if c[0] in (None, device)]
        runs += _runs(week, (device,), day, earliest, mine)
    return runs


def _runs(
    week: Week,
    devices: tuple[int, ...],
    day: tuple[date, datetime],
    earliest: datetime,
    closures: list[ClosureSpan],
) -> list[Run]:
    """The one-slot starts ``availability.slot_starts`` lists, from ``earliest`` on and
    outside ``closures``, as runs; shifts that meet make one run."""
    runs: list[Run] = []
    for starts, ends in week.on(day[0]):
        lo, end = day[1] + starts, day[1] + ends
        count = (end - lo) // week.step if end > lo else 0
        for a, b in _open_parts(lo, count, week.step, earliest, closures):
            first, last = lo + week.step * a, lo + week.step * (b - 1)
            runs.append(Run(devices, day[0], first, last, week.step, week.places))
    return _joined(sorted(runs, key=lambda r: r.lo))


def _open_parts(
    lo: datetime, count: int, step: timedelta, earliest: datetime, closures: list[ClosureSpan]
) -> list[tuple[int, int]]:
    """Index ranges ``[a, b)`` of the starts ``lo + i * step`` (``i < count``) left open."""
    if lo >= earliest and not closures:
        return [(0, count)] if count else []  # most shifts of most days
    parts = [(min(count, max(0, _ceil(earliest - lo, step))), count)]
    for _, c_start, c_end in closures:
        # Start i is shut when the closure meets [start, start + step).
        shut = ((c_start - lo) // step, _ceil(c_end - lo, step))
        parts = [piece for part in parts for piece in _minus(part, shut)]
    return [(a, b) for a, b in parts if a < b]


def _ceil(span: timedelta, step: timedelta) -> int:
    return -(-span // step)


def _minus(part: tuple[int, int], shut: tuple[int, int]) -> list[tuple[int, int]]:
    (a, b), (c, d) = part, shut
    return [(a, min(b, c)), (max(a, d), b)]


def _joined(runs: list[Run]) -> list[Run]:
    # Two shifts that meet (07:00-15:00, 15:00-23:00) make one run: one sum instead of two.
    out: list[Run] = []
    for run in runs:
        prev = out[-1] if out else None
        if prev is not None and run.lo == prev.hi + prev.step:
            out[-1] = Run(prev.devices, prev.day, prev.lo, run.hi, prev.step, prev.places)
        else:
            out.append(run)
    return out


async def _sums(uow: UnitOfWork, runs: list[Run]) -> list[tuple[Run, int]]:
    """Each run and what its counter rows hold back (``capacity - used - places``, summed)."""
    out: list[tuple[Run, int]] = []
    for start in range(0, len(runs), RUNS_PER_STATEMENT):
        chunk = runs[start : start + RUNS_PER_STATEMENT]
        params: dict[str, Any] = {}
        for i, run in enumerate(chunk):
            params |= {f"p{i}": run.places, f"lo{i}": run.lo, f"hi{i}": run.hi}
        shape = tuple(run.devices for run in chunk)
        row = (await uow.session.execute(_statement(shape), params)).one()
        out.extend(zip(chunk, (int(v) for v in row), strict=True))
    return out


@lru_cache(maxsize=64)
def _statement(shape: tuple[tuple[int, ...], ...]) -> Select[Any]:
    """One sum per run (its devices in ``shape``), as the columns of one row. Built once per
    shape, so SQLAlchemy reuses its compiled form. The device ids (integers from the database)
    are written into the SQL: an IN parameter would be expanded again at each call."""
    return select(*(_held_back(i, devices) for i, devices in enumerate(shape)))


def _held_back(i: int, devices: tuple[int, ...]) -> Any:
    ids: list[Any] = [literal_column(str(int(d))) for d in devices]
    places = bindparam(f"p{i}", type_=Integer())
    return (
        select(func.coalesce(func.sum(SlotUsage.capacity - SlotUsage.used - places), 0))
        .where(
            SlotUsage.device_id.in_(ids),
            SlotUsage.starts_at >= bindparam(f"lo{i}", type_=UTCDateTime()),
            SlotUsage.starts_at <= bindparam(f"hi{i}", type_=UTCDateTime()),
        )
        .scalar_subquery()
    )
