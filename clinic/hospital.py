"""Events from the hospital's systems (HIS/RIS orders and reports, PACS studies) and bookings.

The accession number joins them. A booking gets one from reception at check-in, from the HIS's
order message (national code + modality + scheduled day), or, as a last resort, from a report or
study that carries an unknown accession number with the patient's national code, modality and
date. A match that is not unique is never guessed: the event waits for staff.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from clinic import audit
from clinic.actors import Actor
from clinic.errors import ClinicError, Conflict, NotFound
from clinic.identity import parse_national_code
from clinic.jalali import TEHRAN, tehran_datetime
from clinic.models import (
    Booking,
    BookingStatus,
    Device,
    EventCursor,
    Patient,
    RejectedMessage,
    Report,
    Role,
    UnmatchedEvent,
    WebhookReceipt,
)
from clinic.reports import Outcome, ReportEvent, attach_accession, parse_accession, report_event
from clinic.uow import UnitOfWork

ORDER_KIND = "order"
MAX_KEPT_BODY = 64 * 1024

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
    """Our modality for a DICOM/HL7 code (``DX`` → ``CR``); None when unknown or empty.

    Multi-valued DICOM strings (``CT\\SR``) use the first recognised value.
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
        return self.national_code is not None and self.modality is not None and self.on is not None


class OrderOutcome(StrEnum):
    LINKED = "linked"  # the accession number now belongs to the booking
    ALREADY = "already"  # it already did
    UNMATCHED = "unmatched"  # no booking found: kept for staff
    AMBIGUOUS = "ambiguous"  # several bookings fit: kept for staff, never guessed


async def _candidates(uow: UnitOfWork, hint: PatientHint, statuses: tuple[str, ...]) -> list[int]:
    """Ids of the patient's bookings on that Tehran day and modality, in ``statuses``."""
    assert hint.on is not None
    start = tehran_datetime(hint.on, datetime.min.time())
    rows = await uow.session.scalars(
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
    return list(rows)


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
) -> OrderOutcome:
    """An HIS order (HL7 ORM^O01 / OMI^O23) gives a booking its accession number.

    The booking must be the patient's (national code) on the scheduled day and modality, still
    confirmed or admitted; exactly one must fit. Otherwise the order is kept for staff. Raises
    InvalidInput for a malformed accession number.
    """
    accession = parse_accession(accession_number)
    known = await uow.session.scalar(select(Report).where(Report.accession_number == accession))
    if known is not None and known.booking_id is not None:
        return OrderOutcome.ALREADY
    found: list[int] = []
    if hint.usable:
        found = await _candidates(
            uow, hint, (BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value)
        )
    if len(found) == 1 and not await _has_accession(uow, found[0]):
        booking = await uow.session.get(Booking, found[0])
        assert booking is not None
        try:
            await attach_accession(uow, Actor.system(), booking, accession)
        except Conflict:
            return await _keep_order(uow, source, accession, occurred_at, payload, "conflict")
        return OrderOutcome.LINKED
    if len(found) == 1:  # the booking has another number: a second exam, or a mistake
        await _keep_order(uow, source, accession, occurred_at, payload, "booking numbered")
        return OrderOutcome.AMBIGUOUS
    reason = "ambiguous" if found else "no booking"
    await _keep_order(uow, source, accession, occurred_at, payload, reason)
    return OrderOutcome.AMBIGUOUS if found else OrderOutcome.UNMATCHED


async def _keep_order(
    uow: UnitOfWork,
    source: str,
    accession: str,
    occurred_at: datetime,
    payload: dict[str, Any] | None,
    reason: str,
) -> OrderOutcome:
    seen = await uow.session.scalar(
        select(UnmatchedEvent.id).where(
            UnmatchedEvent.accession_number == accession,
            UnmatchedEvent.kind == ORDER_KIND,
            UnmatchedEvent.resolved_at.is_(None),
        )
    )
    if seen is None:
        uow.session.add(
            UnmatchedEvent(
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
) -> Outcome:
    """A report (final / corrected) or a study (images ready) from the HIS or the PACS.

    A known accession number is applied at once. An unknown one is joined, as a last resort, to
    the one admitted booking (checked in or completed) of that patient, modality and day; with
    none or several it is kept for staff. Repeated events notify nobody twice. Raises
    InvalidInput for a malformed accession number.
    """
    accession = parse_accession(accession_number)
    known = await uow.session.scalar(select(Report).where(Report.accession_number == accession))
    if (known is None or known.booking_id is None) and hint is not None and hint.usable:
        found = await _candidates(
            uow, hint, (BookingStatus.CHECKED_IN.value, BookingStatus.COMPLETED.value)
        )
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
    )


async def keep_rejected(
    uow: UnitOfWork, source: str, reason: str, body: str, *, once: bool = False
) -> int:
    """Keep a message we could not accept for staff to inspect; returns its id.

    With ``once``, the same message (source, reason and body) still waiting for staff is not
    kept a second time (a source that repeats itself, like Orthanc's StableStudy).
    """
    if once:
        seen = await uow.session.scalar(
            select(RejectedMessage.id).where(
                RejectedMessage.source == source,
                RejectedMessage.reason == reason[:200],
                RejectedMessage.body == body[:MAX_KEPT_BODY],
                RejectedMessage.reviewed_at.is_(None),
            )
        )
        if seen is not None:
            return seen
    row = RejectedMessage(
        source=source,
        reason=reason[:200],
        body=body[:MAX_KEPT_BODY],
        received_at=uow.clock.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    return row.id


async def rejected_messages(
    uow: UnitOfWork, actor: Actor, limit: int = 50
) -> list[RejectedMessage]:
    """Messages waiting for staff to look at, oldest first."""
    actor.require_role(Role.RECEPTION, Role.REPORTING)
    rows = await uow.session.scalars(
        select(RejectedMessage)
        .where(RejectedMessage.reviewed_at.is_(None))
        .order_by(RejectedMessage.received_at, RejectedMessage.id)
        .limit(limit)
    )
    return list(rows)


async def accept_signature(uow: UnitOfWork, signature: str, window: timedelta) -> bool:
    """Record a webhook signature; False when it was seen before (a replay).

    Receipts older than twice the window are pruned: a request that old fails the timestamp
    check anyway.
    """
    now = uow.clock.now()
    await uow.session.execute(
        delete(WebhookReceipt).where(WebhookReceipt.received_at < now - 2 * window)
    )
    if await uow.session.get(WebhookReceipt, signature) is not None:
        return False
    try:
        async with uow.session.begin_nested():
            uow.session.add(WebhookReceipt(signature=signature, received_at=now))
    except IntegrityError:  # another request with the same signature won the race
        return False
    return True


async def read_cursor(uow: UnitOfWork, name: str) -> int | None:
    """The stored position of an event source, or None before the first event."""
    row = await uow.session.get(EventCursor, name)
    return None if row is None else row.value


async def cursor_marker(uow: UnitOfWork, name: str) -> str | None:
    """What the source said at the stored position (None when not known)."""
    row = await uow.session.get(EventCursor, name)
    return None if row is None else row.marker


async def write_cursor(uow: UnitOfWork, name: str, value: int, marker: str | None = None) -> None:
    """Store the position (and what the source said there) in the caller's transaction, so it
    commits with the event it follows."""
    row = await uow.session.get(EventCursor, name)
    if row is None:
        row = EventCursor(name=name, value=value, marker=marker, updated_at=uow.clock.now())
        uow.session.add(row)
    else:
        row.value = value
        row.marker = marker
        row.updated_at = uow.clock.now()
    await uow.session.flush()


def local_day(moment: datetime) -> date:
    """The Tehran calendar day of an aware datetime."""
    return moment.astimezone(TEHRAN).date()


async def get_rejected(uow: UnitOfWork, actor: Actor, message_id: int) -> RejectedMessage:
    """One kept message for staff to read; NotFound when there is none with this id."""
    actor.require_role(Role.RECEPTION, Role.REPORTING)
    row = await uow.session.get(RejectedMessage, message_id)
    if row is None:
        raise NotFound()
    return row


async def mark_reviewed(uow: UnitOfWork, actor: Actor, message_id: int) -> None:
    """Staff looked at a kept message (and fixed it at the source); audited."""
    row = await get_rejected(uow, actor, message_id)
    if row.reviewed_at is None:
        row.reviewed_at = uow.clock.now()
        row.reviewed_by = actor.id
        await audit.record(uow, actor, "hospital.reviewed", "rejected_message", row.id)


async def get_unmatched(uow: UnitOfWork, actor: Actor, event_id: int) -> UnmatchedEvent:
    """One event waiting for staff; NotFound when there is none open with this id."""
    actor.require_role(Role.RECEPTION, Role.REPORTING)
    row = await uow.session.get(UnmatchedEvent, event_id)
    if row is None or row.resolved_at is not None:
        raise NotFound()
    return row


async def dismiss_unmatched(uow: UnitOfWork, actor: Actor, event_id: int) -> None:
    """Staff decide an event belongs to no appointment here (e.g. an inpatient exam); audited."""
    row = await get_unmatched(uow, actor, event_id)
    row.resolved_at = uow.clock.now()
    row.resolved_by = actor.id
    await audit.record(uow, actor, "hospital.dismissed", "unmatched_event", row.id)


async def waiting_counts(uow: UnitOfWork, actor: Actor) -> tuple[int, int]:
    """(events waiting for a booking, refused messages not yet reviewed)."""
    actor.require_role(Role.RECEPTION, Role.REPORTING)
    events = await uow.session.scalar(
        select(func.count())
        .select_from(UnmatchedEvent)
        .where(UnmatchedEvent.resolved_at.is_(None))
    )
    refused = await uow.session.scalar(
        select(func.count())
        .select_from(RejectedMessage)
        .where(RejectedMessage.reviewed_at.is_(None))
    )
    return int(events or 0), int(refused or 0)
