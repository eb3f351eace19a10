"""After a device's slots or places change: its counter rows and day totals follow the setup."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from clinic import day_counts
from clinic.department_setup import department_setup
from clinic.jalali import tehran_datetime, to_tehran, utc
from clinic.models import SlotDay, SlotUsage

if TYPE_CHECKING:
    from collections.abc import Iterable

    from clinic.uow import UnitOfWork


async def resync_slots(uow: UnitOfWork, device_ids: Iterable[int]) -> None:
    """From now on, ``device_ids``' counter rows take the places the setup now gives a slot
    (rows nobody uses go: they may sit off the new slot grid), and the day totals from today
    are counted again from the rows. Call after the bookings that no longer fit were let go."""
    ids = sorted(set(device_ids))
    if not ids:
        return
    await day_counts.of(uow)()  # this transaction's own changes to the totals, first
    setup = await department_setup(uow)
    now = uow.clock.now()
    today = to_tehran(now).date()
    session = uow.session
    for device_id in ids:
        ahead = (SlotUsage.device_id == device_id, SlotUsage.starts_at >= now)
        await session.execute(delete(SlotUsage).where(*ahead, SlotUsage.used == 0))
        places = setup.devices[device_id].places_per_slot
        await session.execute(
            update(SlotUsage)
            .where(*ahead)
            .values(capacity=places)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(SlotDay).where(SlotDay.device_id == device_id, SlotDay.day >= today)
        )
        session.add_all(await _totals(uow, device_id, today))
    await session.flush()


async def _totals(uow: UnitOfWork, device_id: int, first: date) -> list[SlotDay]:
    start = utc(tehran_datetime(first, time.min))
    rows = await uow.session.execute(
        select(SlotUsage.starts_at, SlotUsage.used, SlotUsage.capacity)
        .where(SlotUsage.device_id == device_id, SlotUsage.starts_at >= start)
        .order_by(SlotUsage.starts_at)
    )
    days: dict[date, SlotDay] = {}
    for starts_at, used, capacity in rows:
        moment: datetime = utc(starts_at)
        day = to_tehran(moment).date()
        total = days.get(day)
        if total is None:
            days[day] = SlotDay(
                device_id=device_id, day=day, slots=1, places_left=capacity - used,
                first_start=moment, last_start=moment,
            )  # fmt: skip
        else:
            total.slots += 1
            total.places_left += capacity - used
            total.last_start = moment
    return list(days.values())
