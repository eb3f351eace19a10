"""Where an admitted patient stands in their device's queue today: how many are ahead of them
and roughly how long that is, with nothing about who those patients are."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.booking import get_booking
from clinic.department_setup import department_setup
from clinic.errors import Conflict
from clinic.i18n import N_
from clinic.jalali import tehran_datetime, to_tehran
from clinic.models import Booking, BookingStatus

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

WAITING = BookingStatus.CHECKED_IN  # admitted and not yet done (in the room counts as ahead)


class NotInQueue(Conflict):
    """The booking is not waiting in a queue now: not admitted yet, done, or not today."""

    code = "not_in_queue"
    message = N_(
        "Your place in the queue is shown on the day of your appointment, once reception has "
        "admitted you, until your exam is done."
    )


@dataclass(frozen=True)
class QueuePosition:
    """How many admitted patients of the same device are ahead, and the rough wait."""

    booking_id: int
    device_id: int
    ahead: int
    wait_minutes: int  # the places ahead times the device's minutes per patient, rounded up
    ticket: int | None  # the walk-in's ticket number, for a walk-in
    as_of: datetime


@dataclass(frozen=True)
class _Waiting:
    id: int
    starts_at: datetime
    checked_in_at: datetime | None
    ticket: int | None
    slots: int


def waiting_today(booking: Booking, now: datetime) -> bool:
    """Whether ``booking`` is admitted and waiting on its day, ``now`` being that day."""
    same_day = to_tehran(booking.starts_at).date() == to_tehran(now).date()
    return booking.status == WAITING and same_day


async def queue_position(uow: UnitOfWork, actor: Actor, booking_id: int) -> QueuePosition:
    """The place of the actor's admitted booking in its device's queue today.

    Reception calls the admitted patients by their booked time, not by when they arrived: a
    patient whose slot is earlier goes first even if they came later, and patients of one
    slot (devices with several places a slot) go in the order they were admitted. A walk-in
    got the earliest free slot when the desk gave the ticket, so walk-ins sit among the
    appointments by slot as well, but between two walk-ins the ticket number decides, as the
    desk calls the numbers out. Only admitted patients count (those booked but not yet come
    are not in the waiting room); a patient is done when reception completes the exam or the
    PACS says the images are ready.

    Raises NotFound for a booking that is not the actor's, NotInQueue when it is not waiting
    today.
    """
    booking = await get_booking(uow, actor, booking_id)
    now = uow.clock.now()
    if not waiting_today(booking, now):
        raise NotInQueue()
    me = _waiting(booking)
    ahead = [other for other in await _others(uow, booking) if _before(other, me)]
    device = (await department_setup(uow)).devices[booking.device_id]
    places = sum(other.slots for other in ahead)
    minutes = math.ceil(places * device.slot_minutes / max(device.places_per_slot, 1))
    return QueuePosition(booking.id, booking.device_id, len(ahead), minutes, booking.ticket, now)


async def _others(uow: UnitOfWork, booking: Booking) -> list[_Waiting]:
    """The other admitted bookings of the device on the booking's Tehran day."""
    start = tehran_datetime(to_tehran(booking.starts_at).date(), time.min)
    rows = await uow.session.execute(
        select(
            Booking.id, Booking.starts_at, Booking.checked_in_at, Booking.ticket, Booking.slots
        ).where(
            Booking.device_id == booking.device_id,
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
            Booking.status == WAITING,
            Booking.id != booking.id,
        )
    )
    return [_Waiting(*row) for row in rows.tuples()]


def _waiting(booking: Booking) -> _Waiting:
    return _Waiting(
        booking.id, booking.starts_at, booking.checked_in_at, booking.ticket, booking.slots
    )


def _before(other: _Waiting, me: _Waiting) -> bool:
    """Whether reception calls ``other`` before ``me`` (see ``queue_position``)."""
    if other.ticket is not None and me.ticket is not None:
        return other.ticket < me.ticket
    return _order(other) < _order(me)


def _order(row: _Waiting) -> tuple[datetime, datetime, int]:
    return (row.starts_at, row.checked_in_at or row.starts_at, row.id)
