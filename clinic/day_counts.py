"""Each device's counter rows per Tehran day, in total, kept as places are taken and given back.

The day list needs a day's free places, not each slot's: with these totals it reads one row per
device and day instead of every counter row of a busy horizon. ``capacity`` records each change
here; the totals are written just before the transaction commits, in (device, day) order, so
that two transactions changing the same days never wait for each other in a cycle (a hold on
one day that gives back an earlier hold on another, against the opposite pair).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Date, Integer, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.jalali import to_tehran, utc
from clinic.models import SlotDay

if TYPE_CHECKING:
    from datetime import date, datetime

    from clinic.uow import UnitOfWork

JOB = "day_counts"


class Total(NamedTuple):
    """One device's counter rows on one day: how many, their places left, their first and
    last slot."""

    slots: int
    places_left: int
    first_start: datetime
    last_start: datetime

    def plus(self, other: Total) -> Total:
        """The two totals together."""
        return Total(
            self.slots + other.slots,
            self.places_left + other.places_left,
            min(self.first_start, other.first_start),
            max(self.last_start, other.last_start),
        )


class DayCounts:
    """A transaction's changes to the totals, written just before it commits."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.changes: dict[tuple[int, date], Total] = {}

    def add(self, device_id: int, start: datetime, *, new_row: int, places_left: int) -> None:
        """A counter row at ``start`` was made (``new_row`` 1) or not (0), and its places left
        changed by ``places_left``."""
        start = utc(start)
        change = Total(new_row, places_left, start, start)
        key = (device_id, to_tehran(start).date())
        self.changes[key] = self.changes[key].plus(change) if key in self.changes else change

    async def __call__(self) -> None:
        """Add the changes to the ``slot_days`` rows (an upsert each) and forget them."""
        upsert = pg_insert if self.uow.dialect == "postgresql" else sqlite_insert
        least, greatest = (
            (func.least, func.greatest) if upsert is pg_insert else (func.min, func.max)
        )
        for (device_id, day), change in sorted(self.changes.items()):
            stmt = upsert(SlotDay).values(device_id=device_id, day=day, **change._asdict())
            await self.uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["device_id", "day"],
                    set_={
                        "slots": SlotDay.slots + stmt.excluded.slots,
                        "places_left": SlotDay.places_left + stmt.excluded.places_left,
                        "first_start": least(SlotDay.first_start, stmt.excluded.first_start),
                        "last_start": greatest(SlotDay.last_start, stmt.excluded.last_start),
                    },
                )
            )
        self.changes = {}


def of(uow: UnitOfWork) -> DayCounts:
    """The unit of work's pending changes to the totals."""
    return uow.job(JOB, lambda: DayCounts(uow))


class DayTotal(NamedTuple):
    """A day's counter rows on some devices, in total: what they hold back from the devices'
    places (``places_left - places * slots``, summed), and their first and last slot."""

    held_back: int
    first_start: datetime
    last_start: datetime

    def plus(self, other: DayTotal) -> DayTotal:
        """The two totals together."""
        return DayTotal(
            self.held_back + other.held_back,
            min(self.first_start, other.first_start),
            max(self.last_start, other.last_start),
        )


async def by_day(
    uow: UnitOfWork, devices: tuple[int, ...], places: int, first: date, last: date
) -> dict[date, DayTotal]:
    """The totals of ``devices`` (``places`` per slot each) per day of ``first..last``, with
    this transaction's own changes."""
    params = {"ids": list(devices), "places": places, "first": first, "last": last}
    rows = await uow.session.execute(_by_day(), params)
    found = {day: DayTotal(int(held), lo, hi) for day, held, lo, hi in rows.tuples()}
    for (device, day), change in of(uow).changes.items():
        if device in devices and first <= day <= last:
            mine = DayTotal(
                change.places_left - places * change.slots, change.first_start, change.last_start
            )
            found[day] = found[day].plus(mine) if day in found else mine
    return found


@cache
def _by_day() -> Select[Any]:
    # Built once: the day list asks on every call, and building the clause costs more.
    places = bindparam("places", type_=Integer())
    return (
        select(
            SlotDay.day,
            func.sum(SlotDay.places_left) - places * func.sum(SlotDay.slots),
            func.min(SlotDay.first_start),
            func.max(SlotDay.last_start),
        )
        .where(
            SlotDay.device_id.in_(bindparam("ids", expanding=True)),
            SlotDay.day >= bindparam("first", type_=Date()),
            SlotDay.day <= bindparam("last", type_=Date()),
        )
        .group_by(SlotDay.day)
    )
