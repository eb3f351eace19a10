"""A day's appointments as the hospital's systems may read them (the FHIR read endpoint)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.daylist import LISTED
from clinic.jalali import tehran_datetime
from clinic.models import Booking, Device

if TYPE_CHECKING:
    from datetime import date

    from clinic.uow import UnitOfWork


async def day_bookings(
    uow: UnitOfWork, day: date, *, device_code: str | None = None, room: str | None = None
) -> list[Booking]:
    """The bookings of ``day`` (Tehran time) that reception's day list shows (confirmed,
    admitted, done, missed; not holds, lapsed holds, moved-away or cancelled ones), in time
    order, optionally only those of the device ``device_code`` or of the room ``room``, of
    every site. An unknown device or room has none. Raises nothing."""
    start = tehran_datetime(day, time.min)
    query = (
        select(Booking)
        .join(Device, Device.id == Booking.device_id)
        .where(
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
            Booking.status.in_(LISTED),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    if device_code is not None:
        query = query.where(Device.code == device_code)
    if room is not None:
        query = query.where(Device.room == room)
    return list(await uow.session.scalars(query))
