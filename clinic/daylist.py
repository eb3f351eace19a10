"""The day at the department: the day list per device, admission (پذیرش) and no-shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import audit, outbound, reports, sites
from clinic.erased import not_erased
from clinic.errors import Conflict, NotFound
from clinic.i18n import N_
from clinic.jalali import tehran_datetime
from clinic.models import Booking, BookingStatus, Patient, Role
from clinic.no_shows import count_no_show
from clinic.outbound_views import OutboundKind

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

LISTED = (
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)


@dataclass(frozen=True)
class DayListRow:
    """One line of reception's day list."""

    booking: Booking
    patient: Patient


async def day_list(uow: UnitOfWork, actor: Actor, device_id: int, day: date) -> list[DayListRow]:
    """The device's bookings on ``day`` in time order (reception and admin of its site).
    Raises NotAllowed, NotFound (another site's device)."""
    actor = actor.require_role(Role.RECEPTION)
    await sites.require_device_site(uow, actor, device_id)
    start = tehran_datetime(day, time.min)
    rows = await uow.session.execute(
        select(Booking, Patient)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(
            Booking.device_id == device_id,
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
            Booking.status.in_(LISTED),
            not_erased(),  # an erased patient's past exams stay in the counts, not the list
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [DayListRow(b, p) for b, p in rows.tuples()]


async def _staff_booking(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    actor = actor.require_role(Role.RECEPTION)
    booking = await uow.session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise NotFound()
    await sites.require_device_site(uow, actor, booking.device_id)
    return booking


async def check_in(
    uow: UnitOfWork, actor: Actor, booking_id: int, *, accession_number: str | None = None
) -> Booking:
    """Admit the patient; with the HIS accession number, results can find them later.

    Admitting twice is harmless (a new accession number is still recorded).
    Raises NotAllowed, NotFound, Conflict (cancelled or ended bookings), InvalidInput.
    """
    booking = await _staff_booking(uow, actor, booking_id)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN):
        raise Conflict(N_("Only a confirmed appointment can be admitted."))
    if booking.status == BookingStatus.CONFIRMED:
        booking.status = BookingStatus.CHECKED_IN
        booking.checked_in_at = uow.clock.now()
        await outbound.record(uow, booking, OutboundKind.ADMITTED, actor)
        await audit.record(uow, actor, "booking.check_in", "booking", booking.id)
    if accession_number:
        await reports.attach_accession(uow, actor, booking, accession_number)
    return booking


async def mark_no_show(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    """Record that the patient did not come (only once the appointment time has passed)."""
    booking = await _staff_booking(uow, actor, booking_id)
    if booking.status == BookingStatus.NO_SHOW:
        return booking
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(N_("Only a confirmed appointment can be marked as missed."))
    if booking.starts_at > uow.clock.now():
        raise Conflict(N_("The appointment time has not come yet."))
    booking.status = BookingStatus.NO_SHOW
    booking.ended_at = uow.clock.now()
    await count_no_show(uow, booking)
    await outbound.record(uow, booking, OutboundKind.NO_SHOW, actor)
    await audit.record(uow, actor, "booking.no_show", "booking", booking.id)
    return booking


async def complete(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    """The exam was done (also set when the PACS says the images are ready)."""
    booking = await _staff_booking(uow, actor, booking_id)
    if booking.status == BookingStatus.CHECKED_IN:
        booking.status = BookingStatus.COMPLETED
        booking.ended_at = uow.clock.now()
        await audit.record(uow, actor, "booking.complete", "booking", booking.id)
    elif booking.status != BookingStatus.COMPLETED:
        raise Conflict(N_("Only an admitted patient's exam can be completed."))
    return booking
