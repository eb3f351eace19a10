"""What holds places in a stretch of days: counter rows, closures and expired holds not swept."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, select

from clinic.db import UTCDateTime
from clinic.department_setup import ClosureSpan, DeviceView, department_setup
from clinic.jalali import tehran_datetime
from clinic.models import Booking, BookingStatus, SlotUsage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from clinic.uow import UnitOfWork


def local_window(first: date, last: date) -> tuple[datetime, datetime]:
    """From Tehran midnight of ``first`` to Tehran midnight after ``last``."""
    return tehran_datetime(first, time.min), tehran_datetime(last + timedelta(days=1), time.min)


class Occupancy:
    """For the per-slot listing: the places left per (device, slot start in UTC) where a
    counter row exists (elsewhere the device's places are all free), and the closures."""

    def __init__(self, closures: list[ClosureSpan]) -> None:
        self.left: dict[tuple[int, datetime], int] = {}
        self.closures = closures


async def load_occupancy(
    uow: UnitOfWork,
    devices: Sequence[DeviceView],
    first: datetime,
    last: datetime,
    *,
    places: bool = True,
) -> Occupancy:
    """The counter rows, closures and unswept expired holds of ``devices`` in ``first..last``;
    without ``places``, the closures only (every slot counts as free)."""
    ids = [d.id for d in devices]
    occ = Occupancy(await load_closures(uow, ids, first, last))
    if not places:
        return occ
    # Plain columns, not ORM objects: a busy horizon has tens of thousands of these rows.
    rows = await uow.session.execute(_usage(), {"ids": ids, "first": first, "last": last})
    occ.left = {(device, start): left for device, start, left in rows.tuples()}
    per_slot = {d.id: d.places_per_slot for d in devices}
    steps = {d.id: d.slot_minutes for d in devices}
    for key in await expired_hold_slots(uow, steps, first, last):
        occ.left[key] = occ.left.get(key, per_slot[key[0]]) + 1
    return occ


async def load_closures(
    uow: UnitOfWork, device_ids: list[int], first: datetime, last: datetime
) -> list[ClosureSpan]:
    """Closures of these devices or of the whole department that overlap ``first..last``."""
    return (await department_setup(uow)).closures_of(set(device_ids), first, last)


async def expired_hold_slots(
    uow: UnitOfWork, steps: dict[int, int], first: datetime, last: datetime
) -> list[tuple[int, datetime]]:
    """(device id, slot start) of every slot an expired hold still counts in ``slot_usage``,
    on the devices of ``steps`` (device id: slot minutes).

    A hold whose time ran out keeps its places until the sweep releases it; they are free.
    """
    # Only by status and expiry, which the status index answers at once (holds last minutes,
    # so there are few); asked by device and time too, SQLite would walk every booking of
    # the horizon. Held bookings that start the day before may reach into ``first``.
    rows = await uow.session.execute(_expired_holds(), {"now": uow.clock.now()})
    since = first - timedelta(days=1)
    return [
        (device, start + timedelta(minutes=steps[device] * i))
        for device, start, slots in rows.tuples()
        if device in steps and since <= start < last
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
def _expired_holds() -> Select[tuple[int, datetime, int]]:
    return select(Booking.device_id, Booking.starts_at, Booking.slots).where(
        Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= _param("now")
    )
