"""Walk-ins: a patient who comes without an appointment for an exam marked walk-in (plain
radiography) gets a ticket in the same-day queue of a device that performs it.

A ticket is a booking made at the desk (``channel`` walk-in), admitted at once, in the earliest
slot of today that has a place, the places the device keeps back for walk-ins first
(``clinic.keeps``); its number counts up per device and day. It is on the day list, it counts
in the e-booking share (as not electronic), and the patient, when linked, sees how many are
ahead of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic import audit, outbound, sites
from clinic.availability import exam_devices
from clinic.catalogue import get_exam
from clinic.desk import DeskRequest, book_at_desk
from clinic.errors import Conflict, InvalidInput
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.models import Booking, BookingChannel, BookingStatus, Keep, Patient, Role
from clinic.outbound_views import OutboundKind

if TYPE_CHECKING:
    from datetime import date

    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

WAITING = (BookingStatus.CHECKED_IN,)  # admitted, the exam not yet done
TRIES = 5  # ticket numbers tried when other desks take them at the same moment


class NotWalkIn(InvalidInput):
    """The exam is given by appointment only."""

    code = "not_walk_in"
    message = N_("This exam is given by appointment, not in the walk-in queue.")


@dataclass(frozen=True)
class WalkInRequest:
    """Who came, for which walk-in exam, with which prescription and answers."""

    national_code: str
    exam_code: str
    insurer: str
    answers: dict[str, bool]
    tracking_code: str | None = None
    device_code: str | None = None


@dataclass(frozen=True)
class Ticket:
    """A place in a device's queue today."""

    booking_id: int
    number: int
    device_id: int
    day: date
    ahead: int  # admitted walk-ins of the device that day with a lower number, not yet done


@dataclass(frozen=True)
class QueueRow:
    """One ticket of a device's queue on a day, in number order."""

    booking_id: int
    number: int
    patient_name: str
    status: BookingStatus


async def issue_ticket(uow: UnitOfWork, actor: Actor, request: WalkInRequest) -> Ticket:
    """Book the walk-in into today's earliest free place and give them the next ticket.

    Raises NotAllowed (reception only), NotWalkIn, NotFound, MissingAnswers, ScreeningBlocked,
    SlotFull (no place left today), and what a desk booking raises.
    """
    actor = actor.require_role(Role.RECEPTION)
    exam = await get_exam(uow, request.exam_code)
    if not exam.walk_in:
        raise NotWalkIn()
    now = uow.clock.now()
    _, devices = await exam_devices(uow, exam.id)
    # The slot under way counts: a walk-in may go in now.
    step = min((d.slot_minutes for d in devices), default=1)
    earliest = now - timedelta(minutes=step) + timedelta(seconds=1)
    today = to_tehran(now).date()
    booking = await book_at_desk(
        uow,
        actor,
        DeskRequest(
            request.national_code, request.exam_code, request.insurer, request.answers,
            tracking_code=request.tracking_code, device_code=request.device_code,
            channel=BookingChannel.WALK_IN, keep=Keep.WALK_IN,
        ),
        earliest=earliest,
    )  # fmt: skip
    if to_tehran(booking.starts_at).date() != today:
        raise Conflict(N_("No place is left today for a walk-in; please book a day ahead."))
    booking.status = BookingStatus.CHECKED_IN
    booking.checked_in_at = now
    await outbound.record(uow, booking, OutboundKind.ADMITTED, actor)
    await uow.session.flush()
    number = await _number(uow, booking, today)
    await audit.record(uow, actor, "walk_in.ticket", "booking", booking.id, ticket=number)
    return Ticket(booking.id, number, booking.device_id, today, await _ahead(uow, booking))


async def _number(uow: UnitOfWork, booking: Booking, day: date) -> int:
    """Give ``booking`` the next ticket of its device's day. Two desks at once: the unique
    index refuses the second number, which then takes the one after (never a number twice)."""
    for _ in range(TRIES):
        top = await uow.session.scalar(
            select(func.max(Booking.ticket)).where(
                Booking.device_id == booking.device_id, Booking.ticket_day == day
            )
        )
        try:
            async with uow.session.begin_nested():
                booking.ticket_day, booking.ticket = day, int(top or 0) + 1
                await uow.session.flush()
        except IntegrityError:
            booking.ticket_day, booking.ticket = None, None
            continue
        return booking.ticket
    raise Conflict(N_("Many tickets are being given at once; please try again."))


async def _ahead(uow: UnitOfWork, booking: Booking) -> int:
    assert booking.ticket is not None
    count = await uow.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.device_id == booking.device_id,
            Booking.ticket_day == booking.ticket_day,
            Booking.ticket < booking.ticket,
            Booking.status.in_(WAITING),
        )
    )
    return int(count or 0)


async def place_in_queue(uow: UnitOfWork, booking_id: int) -> int | None:
    """How many walk-ins are ahead of this ticket today (None: not a ticket waiting today)."""
    booking = await uow.session.get(Booking, booking_id)
    today = to_tehran(uow.clock.now()).date()
    if booking is None or booking.ticket is None or booking.ticket_day != today:
        return None
    if booking.status not in WAITING:
        return None
    return await _ahead(uow, booking)


async def queue(uow: UnitOfWork, actor: Actor, device_id: int, day: date) -> list[QueueRow]:
    """The device's tickets on ``day`` in number order (reception of its site). Raises
    NotAllowed, NotFound (another site's device)."""
    actor = actor.require_role(Role.RECEPTION)
    await sites.require_device_site(uow, actor, device_id)
    rows = await uow.session.execute(
        select(Booking.id, Booking.ticket, Patient.first_name, Patient.last_name, Booking.status)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.device_id == device_id, Booking.ticket_day == day)
        .order_by(Booking.ticket)
    )
    return [
        QueueRow(booking_id, int(number or 0), f"{first} {last}", status)
        for booking_id, number, first, last, status in rows.tuples()
    ]
