"""Each device's counter rows per Tehran day, in total, kept as places are taken and given back.

The day list needs a day's free places, not each slot's: with these totals it reads one row per
device and day instead of every counter row of a busy horizon. ``capacity`` records each change
here; the totals are written just before the transaction commits, in (device, day) order, so
that two transactions changing the same days never wait for each other in a cycle (a hold on
one day that gives back an earlier hold on another, against the opposite pair).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.jalali import to_tehran, utc
from clinic.models import SlotDay
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
        return Total(
            self.slots + other.slots,
            self.places_left + other.places_left,
            min(self.first_start, other.first_start),
            max(self.last_start, other.last_start),
        )


class DayCounts:
    """This transaction's changes to the totals, written just before it commits."""

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


async def totals(
    uow: UnitOfWork, device_ids: list[int], first: date, last: date
) -> dict[tuple[int, date], Total]:
    """The totals of ``device_ids`` on days ``first..last``, with this transaction's changes."""
    rows = await uow.session.execute(_totals(), {"ids": device_ids, "first": first, "last": last})
    found = {(device, day): Total(*rest) for device, day, *rest in rows.tuples()}
    for key, change in of(uow).changes.items():
        if first <= key[1] <= last and key[0] in device_ids:
            found[key] = found[key].plus(change) if key in found else change
    return found


@cache
def _totals() -> Select[Any]:
    # Built once: the day list asks on every call, and building the clause costs more.
    return select(
        SlotDay.device_id,
        SlotDay.day,
        SlotDay.slots,
        SlotDay.places_left,
        SlotDay.first_start,
        SlotDay.last_start,
    ).where(
        SlotDay.device_id.in_(bindparam("ids", expanding=True)),
        SlotDay.day >= bindparam("first", type_=Date()),
        SlotDay.day <= bindparam("last", type_=Date()),
    )
