"""What holds places in a stretch of days: counter rows, closures and expired holds not swept."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select

from clinic.db import UTCDateTime
from clinic.jalali import tehran_datetime
from clinic.models import Booking, BookingStatus, Closure, Device, SlotUsage
from clinic.uow import UnitOfWork

# (device id or None for the whole department, starts, ends)
ClosureSpan = tuple[int | None, datetime, datetime]


def local_window(first: date, last: date) -> tuple[datetime, datetime]:
    """From Tehran midnight of ``first`` to Tehran midnight after ``last``."""
    return tehran_datetime(first, time.min), tehran_datetime(last + timedelta(days=1), time.min)


def overlaps(closure: ClosureSpan, device_id: int, start: datetime, end: datetime) -> bool:
    """Whether the closure shuts ``device_id`` at some moment of ``start..end``."""
    dev, c_start, c_end = closure
    return (dev is None or dev == device_id) and c_start < end and start < c_end


class Occupancy:
    """Places free per (device, slot start) and the closures, for the per-slot listing."""

    def __init__(self, closures: list[ClosureSpan]) -> None:
        self.left: dict[tuple[int, datetime], int] = {}  # capacity - used, where a row exists
        self.closures = closures

    def free(self, device: Device, start: datetime) -> int:
        return self.left.get((device.id, start), device.places_per_slot)

    def closed(self, device_id: int, start: datetime, end: datetime) -> bool:
        return any(overlaps(c, device_id, start, end) for c in self.closures)


async def load_occupancy(
    uow: UnitOfWork, devices: list[Device], first: datetime, last: datetime
) -> Occupancy:
    """The counter rows, closures and unswept expired holds of ``devices`` in ``first..last``."""
    ids = [d.id for d in devices]
    occ = Occupancy(await load_closures(uow, ids, first, last))
    # Plain columns, not ORM objects: a busy horizon has tens of thousands of these rows.
    rows = await uow.session.execute(_usage(), {"ids": ids, "first": first, "last": last})
    occ.left = {(device, start): left for device, start, left in rows.tuples()}
    places = {d.id: d.places_per_slot for d in devices}
    steps = {d.id: d.slot_minutes for d in devices}
    for key in await expired_hold_slots(uow, steps, first, last):
        occ.left[key] = occ.left.get(key, places[key[0]]) + 1
    return occ


async def load_closures(
    uow: UnitOfWork, device_ids: list[int], first: datetime, last: datetime
) -> list[ClosureSpan]:
    """Closures of these devices or of the whole department that overlap ``first..last``."""
    rows = await uow.session.execute(
        _closures(), {"ids": device_ids, "first": first, "last": last}
    )
    return list(rows.tuples())


async def expired_hold_slots(
    uow: UnitOfWork, steps: dict[int, int], first: datetime, last: datetime
) -> list[tuple[int, datetime]]:
    """(device id, slot start) of every slot an expired hold still counts in ``slot_usage``,
    on the devices of ``steps`` (device id: slot minutes).

    A hold whose time ran out keeps its places until the sweep releases it; they are free.
    """
    # Held bookings that start the day before may reach into ``first`` with later slots.
    window = {"first": first - timedelta(days=1), "last": last}
    params = {"ids": list(steps), "now": uow.clock.now(), **window}
    rows = await uow.session.execute(_expired_holds(), params)
    return [
        (device, start + timedelta(minutes=steps[device] * i))
        for device, start, slots in rows.tuples()
        for i in range(slots)
    ]


# The statements are built once: building SQLAlchemy clauses costs more than running these.
def _param(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


@cache
def _usage() -> Select[tuple[int, datetime, int]]:
    left = SlotUsage.capacity - SlotUsage.used
    return select(SlotUsage.device_id, SlotUsage.starts_at, left).where(
        SlotUsage.device_id.in_(bindparam("ids", expanding=True)),
        SlotUsage.starts_at >= _param("first"),
        SlotUsage.starts_at < _param("last"),
    )


@cache
def _closures() -> Select[tuple[int | None, datetime, datetime]]:
    return select(Closure.device_id, Closure.starts_at, Closure.ends_at).where(
        or_(Closure.device_id.is_(None), Closure.device_id.in_(bindparam("ids", expanding=True))),
        Closure.cancelled_at.is_(None),
        Closure.starts_at < _param("last"),
        Closure.ends_at > _param("first"),
    )


@cache
def _expired_holds() -> Select[tuple[int, datetime, int]]:
    return select(Booking.device_id, Booking.starts_at, Booking.slots).where(
        Booking.device_id.in_(bindparam("ids", expanding=True)),
        Booking.status == BookingStatus.HELD.value,
        Booking.hold_expires_at <= _param("now"),
        Booking.starts_at >= _param("first"),
        Booking.starts_at < _param("last"),
    )
