"""What an outbound booking event tells the hospital's systems: a frozen view of one booking
change (clinic/outbound.py writes the events; notifier/outbound/ delivers them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.models import Booking, Department, Device, Exam, OutboundEvent, Patient, Report, Staff

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.uow import UnitOfWork


class OutboundKind(StrEnum):
    """The booking change an outbound event reports."""

    BOOKED = "booked"  # confirmed: HL7 SIU^S12
    MOVED = "moved"  # rescheduled, or moved by a closure: SIU^S14
    ADMITTED = "admitted"  # checked in at reception: SIU^S14 with the filler status arrived
    CANCELLED = "cancelled"  # SIU^S15
    NO_SHOW = "no_show"  # SIU^S26


@dataclass(frozen=True)
class OutboundBooking:
    """One booking change as the hospital's systems are told it (no message text, no photo)."""

    event_id: int  # our outbound event's id: the message control id's source
    kind: OutboundKind
    occurred_at: datetime  # when the change happened (UTC-aware)
    booking_code: str  # the placer appointment id (what the patient reads out)
    accession_number: str | None  # the filler appointment id, once the RIS gave one
    starts_at: datetime  # UTC-aware
    duration_minutes: int
    national_code: str  # PID-3, identifier type NNIRN
    first_name: str  # Persian
    last_name: str
    birth_year: int  # Jalali year (the only part of the birth date we keep)
    sex: str  # "female" | "male"
    mobile: str  # 09xxxxxxxxx
    exam_code: str
    exam_name: str  # Persian
    modality: str  # CT, MR, CR, US, MG, RF, BMD
    device_code: str
    device_name: str  # Persian
    room: str
    site_facility: str  # the site's HIS name (MSH-6, the receiving facility); "" when none
    staff_name: str | None = None  # the staff member who made the change, where one did (AIG)


async def first_booking(uow: UnitOfWork, booking: Booking) -> tuple[Booking, list[int]]:
    """The booking a chain of moves started from, and the ids of the whole chain: a move
    gives a new booking (and code), but the hospital was told of the first one, so that is
    the appointment it keeps hearing of."""
    chain = [booking.id]
    first = booking
    while first.replaces_id is not None and first.replaces_id not in chain:
        earlier = await uow.session.get(Booking, first.replaces_id)
        if earlier is None:
            break
        first = earlier
        chain.append(first.id)
    return first, chain


async def booking_view(
    uow: UnitOfWork,
    booking: Booking,
    kind: OutboundKind,
    *,
    event_id: int,
    occurred_at: datetime,
    staff_id: int | None = None,
) -> OutboundBooking:
    """``booking``'s change ``kind`` as the hospital's systems are told it."""
    session = uow.session
    # One round trip for who, what and where (a sender tells hundreds of these in a row).
    found = await session.execute(
        select(Patient, Exam, Device, Department)
        .select_from(Booking)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Exam, Exam.id == Booking.exam_id)
        .join(Device, Device.id == Booking.device_id)
        .outerjoin(Department, Department.id == Device.department_id)
        .where(Booking.id == booking.id)
    )
    patient, exam, device, site = found.tuples().one()  # the foreign keys hold them
    first, chain = await first_booking(uow, booking)
    accession = await session.scalar(
        select(Report.accession_number)
        .where(Report.booking_id.in_(chain))
        .order_by(Report.id)
        .limit(1)
    )
    staff = await session.get(Staff, staff_id) if staff_id is not None else None
    return OutboundBooking(
        event_id=event_id, kind=kind, occurred_at=occurred_at, booking_code=first.code,
        accession_number=accession, starts_at=booking.starts_at,
        duration_minutes=device.slot_minutes * booking.slots, national_code=patient.national_code,
        first_name=patient.first_name, last_name=patient.last_name,
        birth_year=patient.birth_year, sex=patient.sex.value, mobile=patient.mobile,
        exam_code=exam.code, exam_name=exam.name_fa, modality=exam.modality.value,
        device_code=device.code, device_name=device.name_fa, room=device.room,
        site_facility=site.his_facility if site is not None else "",
        staff_name=staff.full_name if staff is not None else None,
    )  # fmt: skip


async def event_view(uow: UnitOfWork, event: OutboundEvent) -> OutboundBooking | None:
    """What ``event`` tells (None when its booking is gone, which the foreign key forbids)."""
    booking = await uow.session.get(Booking, event.booking_id)
    if booking is None:
        return None
    return await booking_view(
        uow, booking, OutboundKind(event.kind), event_id=event.id,
        occurred_at=event.created_at, staff_id=event.staff_id,
    )  # fmt: skip
