"""Taking and releasing places in slots, atomically on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic import day_counts
from clinic.department_setup import DeviceView, department_setup
from clinic.errors import SlotFull
from clinic.models import Booking, SlotUsage

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork


def slots_for(duration_minutes: int, slot_minutes: int) -> int:
    """How many consecutive slots of ``slot_minutes`` an exam of ``duration_minutes`` takes."""
    return max(1, math.ceil(duration_minutes / slot_minutes))


def slot_times(device: DeviceView, starts_at: datetime, count: int) -> list[datetime]:
    """The starts of the ``count`` consecutive slots beginning at ``starts_at``."""
    return [starts_at + timedelta(minutes=device.slot_minutes * i) for i in range(count)]


async def take(
    uow: UnitOfWork, device: DeviceView, starts_at: datetime, count: int, *, spare: int = 0
) -> None:
    """Take one place in each of ``count`` slots, leaving ``spare`` places of each free (those
    kept back for another purpose, ``clinic.keeps``), or raise SlotFull.

    The counter row is updated with a guarded ``used < capacity``: under PostgreSQL the row lock
    makes a concurrent holder wait and re-check; SQLite serialises writers. Read-then-write is
    never used. On SlotFull the caller's transaction must be rolled back (the unit of work does).
    """
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    made = []
    for start in slot_times(device, starts_at, count):
        created = await uow.session.execute(
            insert(SlotUsage)
            .values(device_id=device.id, starts_at=start, used=0, capacity=device.places_per_slot)
            .on_conflict_do_nothing(index_elements=["device_id", "starts_at"])
        )
        made.append((start, getattr(created, "rowcount", 0)))
        result = await uow.session.execute(
            update(SlotUsage)
            .where(
                SlotUsage.device_id == device.id,
                SlotUsage.starts_at == start,
                SlotUsage.used < SlotUsage.capacity - spare,
            )
            .values(used=SlotUsage.used + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise SlotFull()
    # Counted only once every slot is taken: on SlotFull the caller's savepoint or transaction
    # is rolled back, and nothing may be left counted.
    counts = day_counts.of(uow)
    for start, new_row in made:
        counts.add(
            device.id, start, new_row=new_row, places_left=new_row * device.places_per_slot - 1
        )


async def release(uow: UnitOfWork, booking: Booking) -> None:
    """Give back the places a booking held (call once, when it leaves an active status)."""
    device = (await department_setup(uow)).devices[booking.device_id]
    counts = day_counts.of(uow)
    for start in slot_times(device, booking.starts_at, booking.slots):
        result = await uow.session.execute(
            update(SlotUsage)
            .where(
                SlotUsage.device_id == device.id,
                SlotUsage.starts_at == start,
                SlotUsage.used > 0,
            )
            .values(used=SlotUsage.used - 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            counts.add(device.id, start, new_row=0, places_left=1)
