"""The modality worklist: the bookings admitted at reception, as a modality's console lists them.

For a department with no RIS: ``notifier/outbound/worklist.py`` serves these entries over DICOM
(Modality Worklist C-FIND), so the radiographer picks the patient instead of typing them in.

Only admitted bookings (checked in) are listed, not every confirmed one: reception has seen the
patient and their ID, so the console offers the patients who are in the building and nobody who
may not come. Completing the exam (reception, or the PACS's images) takes it off the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.jalali import parse_jalali_date, tehran_datetime, to_tehran
from clinic.models import (
    Booking,
    BookingStatus,
    Department,
    Device,
    Exam,
    Modality,
    Patient,
    Report,
)

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.uow import UnitOfWork

LISTED = (BookingStatus.CHECKED_IN,)
MODALITIES = frozenset(m.value for m in Modality)
_SEX = {"female": "F", "male": "M"}


@dataclass(frozen=True)
class WorklistEntry:
    """One admitted booking as a modality is told it (no mobile, no referral, no answers)."""

    booking_code: str  # what the patient reads out: the requested procedure's id
    accession_number: str | None  # the HIS's, once reception (or an order) gave one
    national_code: str  # the patient id, issued by NNIRN
    first_name: str  # Persian
    last_name: str
    birth_year: int  # Jalali (the only part of the birth date we keep)
    sex: str  # "F" | "M"
    exam_code: str
    exam_name: str  # Persian
    modality: str  # the device's: CT, MR, CR, US, MG, RF, BMD
    device_code: str
    starts_at: datetime  # Tehran time
    booked_at: datetime  # when the booking was made (UTC): with the code, it names the study
    site_id: int | None  # the device's site

    @property
    def accession(self) -> str:
        """The accession number, or the booking code until the HIS gives one: the PACS then
        joins the study to the booking by the patient's national code, modality and day."""
        return self.accession_number or self.booking_code

    @property
    def birth_date(self) -> date:
        """1 Farvardin of the birth year, as Iran's civil registry records an unknown day: in
        the patient's own Jalali year, and in the Gregorian year the HL7 messages give."""
        return parse_jalali_date(f"{self.birth_year:04d}/01/01")


async def worklist(
    uow: UnitOfWork,
    day: date,
    *,
    days: int = 1,
    modality: str | None = None,
    station: str | None = None,
    site_id: int | None = None,
) -> list[WorklistEntry]:
    """The admitted bookings starting on ``day`` (and the ``days - 1`` days after it, Tehran
    time) in time order; only the devices of ``modality`` (a DICOM code), the device whose
    code is ``station`` (without case) and the devices of ``site_id`` when given. A modality
    we have no device of, or ``days`` below 1, lists nothing. Raises nothing of its own."""
    if days < 1 or (modality is not None and modality not in MODALITIES):
        return []
    start = tehran_datetime(day, time.min)
    accession = (
        select(Report.accession_number)
        .where(Report.booking_id == Booking.id)
        .order_by(Report.id.desc())
        .limit(1)
        .scalar_subquery()
    )  # the latest typed: reception may correct it
    query = (
        select(Booking, Patient, Exam, Device, accession)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Exam, Exam.id == Booking.exam_id)
        .join(Device, Device.id == Booking.device_id)
        .where(
            Booking.status.in_(LISTED),
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=days),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    if modality is not None:
        query = query.where(Device.modality == modality)
    if station is not None:
        query = query.where(func.lower(Device.code) == station.strip().lower())
    if site_id is not None:
        query = query.where(Device.department_id == site_id)
    rows = await uow.session.execute(query)
    return [_entry(*row) for row in rows.tuples()]


def _entry(
    booking: Booking, patient: Patient, exam: Exam, device: Device, accession: str | None
) -> WorklistEntry:
    return WorklistEntry(
        booking.code, accession, patient.national_code, patient.first_name, patient.last_name,
        patient.birth_year, _SEX.get(patient.sex, "O"), exam.code, exam.name_fa,
        device.modality.value, device.code, to_tehran(booking.starts_at), booking.created_at,
        device.department_id,
    )  # fmt: skip


async def worklist_site(uow: UnitOfWork, his_name: str) -> int | None:
    """The site whose HIS calls itself ``his_name`` (without case), None when no site does.
    Unlike ``sites.his_site`` a single site is not assumed: a worklist must never offer one
    hospital's patients to another's modality on a misspelt name."""
    name = his_name.strip().lower()
    if not name:
        return None
    rows = await uow.session.execute(select(Department.id, Department.his_facility))
    return next((int(i) for i, his in rows.tuples() if his.strip().lower() == name), None)


__all__ = ["LISTED", "WorklistEntry", "worklist", "worklist_site"]
