"""What an outbound booking event tells the hospital's systems: a frozen view of one booking
change (clinic/outbound.py writes the events; notifier/outbound/ delivers them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


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
