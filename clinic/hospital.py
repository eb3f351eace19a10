"""Events from the hospital's systems (HIS/RIS orders and reports, PACS studies) and bookings.

The accession number joins them. A booking gets one from reception at check-in, from the HIS's
order message (national code + modality + scheduled day), or, as a last resort, from a report or
study that carries an unknown accession number with the patient's national code, modality and
date. A match that is not unique is never guessed: the event waits for staff.

Each hospital's RIS numbers its own exams, so an accession number is looked up, and a booking
looked for, only at the site the event comes from.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from clinic.actors import Actor
from clinic.errors import ClinicError, Conflict
from clinic.identity import parse_national_code
from clinic.jalali import tehran_datetime
from clinic.models import (
    Booking,
    BookingStatus,
    Device,
    Patient,
    Report,
    UnmatchedEvent,
)
from clinic.reports import (
    Outcome,
    ReportEvent,
    attach_accession,
    event_site,
    parse_accession,
    report_event,
)
from clinic.sites import NO_SITE

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

ORDER_KIND = "order"

# DICOM modality codes (0008,0060) and HL7 diagnostic service ids to our device modalities.
_MODALITY_ALIASES = {
    "CT": "CT",
    "MR": "MR",
    "MRI": "MR",
    "CR": "CR",
    "DX": "CR",
    "DR": "CR",
    "RG": "CR",
    "XR": "CR",
    "RAD": "CR",
    "PX": "CR",
    "US": "US",
    "MG": "MG",
    "MAM": "MG",
    "RF": "RF",
    "XA": "RF",
    "BMD": "BMD",
    "DXA": "BMD",
    "BDUS": "BMD",
}


def normalize_modality(raw: str | None) -> str | None:
    r"""Our modality for a DICOM/HL7 code (``DX`` → ``CR``); None when unknown or empty.

    Multi-valued DICOM strings (``CT\SR``) use the first recognised value.
    """
    if not raw:
        return None
    for part in raw.replace("^", "\\").split("\\"):
        found = _MODALITY_ALIASES.get(part.strip().upper())
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class PatientHint:
    """What a message says about whose exam it is, for matching when the accession is unknown."""

    national_code: str | None
    modality: str | None
    on: date | None

    @classmethod
    def of(cls, national_code: str | None, modality: str | None, on: date | None) -> PatientHint:
        """A hint with the national code validated (an invalid one counts as absent)."""
        code: str | None = None
        if national_code:
            try:
                code = parse_national_code(national_code)
            except ClinicError:
                code = None
        return cls(code, normalize_modality(modality), on)

    @property
    def usable(self) -> bool:
        """Whether the hint has all it takes to match: national code, modality and day."""
        return self.national_code is not None and self.modality is not None and self.on is not None


class OrderOutcome(StrEnum):
    """What became of a hospital order's accession number."""

    LINKED = "linked"  # the accession number now belongs to the booking
    ALREADY = "already"  # it already did
    UNMATCHED = "unmatched"  # no booking found: kept for staff
    AMBIGUOUS = "ambiguous"  # several bookings fit: kept for staff, never guessed


async def _candidates(
    uow: UnitOfWork, hint: PatientHint, statuses: tuple[str, ...], site: int
) -> list[int]:
    """Ids of the patient's bookings at ``site`` on that Tehran day and modality, in
    ``statuses``: the same patient's exam at another hospital is another hospital's order."""
    assert hint.on is not None
    start = tehran_datetime(hint.on, datetime.min.time())
    query = (
        select(Booking.id)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Device, Device.id == Booking.device_id)
        .where(
            Patient.national_code == hint.national_code,
            Device.modality == hint.modality,
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
            Booking.status.in_(statuses),
        )
        .order_by(Booking.id)
    )
    if site != NO_SITE:
        query = query.where(Device.department_id == site)
    return list(await uow.session.scalars(query))


async def _known(uow: UnitOfWork, site: int, accession: str) -> Report | None:
    found: Report | None = await uow.session.scalar(
        select(Report).where(Report.site_id == site, Report.accession_number == accession)
    )
    return found


async def _has_accession(uow: UnitOfWork, booking_id: int) -> bool:
    """Whether the booking already has an accession number (then another is not guessed)."""
    found = await uow.session.scalar(select(Report.id).where(Report.booking_id == booking_id))
    return found is not None


async def link_order(
    uow: UnitOfWork,
    *,
    source: str,
    accession_number: str,
    hint: PatientHint,
    occurred_at: datetime,
    payload: dict[str, Any] | None = None,
    site: int | None = None,
) -> OrderOutcome:
    """An HIS order (HL7 ORM^O01 / OMI^O23) of ``site`` (None: the only site) gives a booking
    there its accession number.

    The booking must be the patient's (national code) on the scheduled day and modality, still
    confirmed or admitted; exactly one must fit. Otherwise the order is kept for staff. Raises
    InvalidInput for a malformed accession number, UnknownSite when several sites are served
    and ``site`` is None.
    """
    accession = parse_accession(accession_number)
    at = await event_site(uow, site)
    known = await _known(uow, at, accession)
    if known is not None and known.booking_id is not None:
        return OrderOutcome.ALREADY
    found: list[int] = []
    if hint.usable:
        statuses = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)
        found = await _candidates(uow, hint, statuses, at)
    if len(found) == 1 and not await _has_accession(uow, found[0]):
        booking = await uow.session.get(Booking, found[0])
        assert booking is not None
        try:
            await attach_accession(uow, Actor.system(), booking, accession)
        except Conflict:
            return await _keep_order(uow, at, source, accession, occurred_at, payload, "conflict")
        return OrderOutcome.LINKED
    if len(found) == 1:  # the booking has another number: a second exam, or a mistake
        await _keep_order(uow, at, source, accession, occurred_at, payload, "booking numbered")
        return OrderOutcome.AMBIGUOUS
    reason = "ambiguous" if found else "no booking"
    await _keep_order(uow, at, source, accession, occurred_at, payload, reason)
    return OrderOutcome.AMBIGUOUS if found else OrderOutcome.UNMATCHED


async def _keep_order(
    uow: UnitOfWork,
    site: int,
    source: str,
    accession: str,
    occurred_at: datetime,
    payload: dict[str, Any] | None,
    reason: str,
) -> OrderOutcome:
    seen = await uow.session.scalar(
        select(UnmatchedEvent.id).where(
            UnmatchedEvent.site_id == site,
            UnmatchedEvent.accession_number == accession,
            UnmatchedEvent.kind == ORDER_KIND,
            UnmatchedEvent.resolved_at.is_(None),
        )
    )
    if seen is None:
        uow.session.add(
            UnmatchedEvent(
                site_id=site,
                source=source,
                kind=ORDER_KIND,
                accession_number=accession,
                occurred_at=occurred_at,
                payload={**(payload or {}), "reason": reason},
                received_at=uow.clock.now(),
            )
        )
        await uow.session.flush()
    return OrderOutcome.AMBIGUOUS if reason == "ambiguous" else OrderOutcome.UNMATCHED


async def hospital_report_event(
    uow: UnitOfWork,
    *,
    source: str,
    accession_number: str,
    kind: ReportEvent,
    occurred_at: datetime,
    hint: PatientHint | None = None,
    payload: dict[str, Any] | None = None,
    site: int | None = None,
) -> Outcome:
    """A report (final / corrected) or a study (images ready) from the HIS or the PACS of
    ``site`` (None: the only site).

    A known accession number of the site is applied at once. An unknown one is joined, as a
    last resort, to the one admitted booking (checked in or completed) at the site of that
    patient, modality and day; with none or several it is kept for staff. Repeated events
    notify nobody twice. Raises InvalidInput for a malformed accession number, UnknownSite
    when several sites are served and ``site`` is None.
    """
    accession = parse_accession(accession_number)
    at = await event_site(uow, site)
    known = await _known(uow, at, accession)
    if (known is None or known.booking_id is None) and hint is not None and hint.usable:
        statuses = (BookingStatus.CHECKED_IN, BookingStatus.COMPLETED)
        found = await _candidates(uow, hint, statuses, at)
        if len(found) == 1 and not await _has_accession(uow, found[0]):
            booking = await uow.session.get(Booking, found[0])
            assert booking is not None
            with contextlib.suppress(Conflict):  # the number is another booking's already
                await attach_accession(uow, Actor.system(), booking, accession)
        elif len(found) == 1:
            payload = {**(payload or {}), "reason": "booking numbered"}
        elif len(found) > 1:
            payload = {**(payload or {}), "reason": "ambiguous"}
    return await report_event(
        uow,
        source=source,
        accession_number=accession,
        kind=kind,
        occurred_at=occurred_at,
        payload=payload,
        site=at,
    )
