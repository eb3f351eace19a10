"""Reports: the accession number joins HIS/RIS, PACS and the booking; events notify the patient."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from clinic import audit, sites
from clinic.correction_cap import corrected_key, may_tell_correction
from clinic.erased import is_erased
from clinic.errors import Conflict, InvalidInput, NotFound
from clinic.handover import unique_pickup_code
from clinic.i18n import N_
from clinic.models import (
    ActorKind,
    Booking,
    BookingStatus,
    Patient,
    Report,
    ReportStatus,
    Role,
    UnmatchedEvent,
)
from clinic.outbox import Notice, enqueue
from clinic.patients import check_access, get_patient
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Select

    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

ACCESSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}", re.ASCII)


class UnknownSite(InvalidInput):
    """Several sites are served and an event does not say (or misnames) whose it is."""

    code = "unknown_site"
    message = N_("The message does not say which hospital it comes from.")


class ReportEvent(StrEnum):
    """What the hospital says happened to a report."""

    IMAGES_READY = "images_ready"
    FINAL = "final"
    CORRECTED = "corrected"


class Outcome(StrEnum):
    """What a report event did: applied, a duplicate, or kept unmatched for staff."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"


def parse_accession(raw: str) -> str:
    """An accession number as the HIS writes it; Persian digits accepted."""
    value = normalize_digits(raw).strip()
    if not ACCESSION.fullmatch(value):
        raise InvalidInput(N_("The accession number should be letters and digits only."))
    return value


async def event_site(uow: UnitOfWork, site: int | None) -> int:
    """The site an event is for: ``site`` when the caller knows it, else the only site (or
    NO_SITE without sites). Raises UnknownSite when several sites are served: never guessed."""
    found = site if site is not None else await sites.his_site(uow, None)
    if found is None:
        raise UnknownSite()
    return found


async def booking_site(uow: UnitOfWork, booking: Booking) -> int:
    """The site whose RIS numbers the booking's exam: its device's site. A device with no
    site on record belongs to the only site, as the migration that made sites put it."""
    found = await sites.device_site(uow, booking.device_id)
    if found is None:
        found = await sites.his_site(uow, None)
    return found if found is not None else sites.NO_SITE


def _report_at(site: int, accession: str) -> Select[tuple[Report]]:
    return select(Report).where(Report.site_id == site, Report.accession_number == accession)


async def attach_accession(uow: UnitOfWork, actor: Actor, booking: Booking, raw: str) -> Report:
    """Join a booking to its HIS accession number, replaying events that arrived before.

    The number is the booking's site's (each hospital's RIS numbers its own exams). Raises
    InvalidInput (malformed), Conflict (the number belongs to another booking of the site).
    """
    accession = parse_accession(raw)
    site = await booking_site(uow, booking)
    report = await uow.session.scalar(_report_at(site, accession))
    if report is not None:
        if report.booking_id not in (None, booking.id):
            raise Conflict(N_("This accession number belongs to another appointment."))
        report.booking_id = booking.id
    else:
        report = Report(
            site_id=site,
            accession_number=accession,
            booking_id=booking.id,
            status=ReportStatus.PENDING,
            pickup_code=await unique_pickup_code(uow),
            created_at=uow.clock.now(),
        )
        uow.session.add(report)
    await uow.session.flush()
    await audit.record(uow, actor, "report.accession", "booking", booking.id, report_id=report.id)
    await _replay_unmatched(uow, report)
    return report


async def _replay_unmatched(uow: UnitOfWork, report: Report) -> None:
    waiting = await uow.session.scalars(
        select(UnmatchedEvent)
        .where(
            UnmatchedEvent.site_id == report.site_id,
            UnmatchedEvent.accession_number == report.accession_number,
            UnmatchedEvent.resolved_at.is_(None),
        )
        .order_by(UnmatchedEvent.occurred_at, UnmatchedEvent.id)
    )
    for event in list(waiting):
        if event.kind in ReportEvent.__members__.values():
            await _apply(uow, report, ReportEvent(event.kind), event.occurred_at)
        # an HIS order kept for staff is settled by the accession number arriving
        event.resolved_at = uow.clock.now()


async def report_event(
    uow: UnitOfWork,
    *,
    source: str,
    accession_number: str,
    kind: ReportEvent,
    occurred_at: datetime,
    payload: dict[str, Any] | None = None,
    site: int | None = None,
) -> Outcome:
    """Apply "images ready", "report final" or "report corrected" for an accession number
    of ``site`` (None: the only site).

    Repeated events change nothing and notify nobody twice. An accession number we do not know
    is kept for staff (UNMATCHED), never dropped. Raises InvalidInput for a malformed number,
    UnknownSite when several sites are served and ``site`` is None.
    """
    accession = parse_accession(accession_number)
    at = await event_site(uow, site)
    report = await uow.session.scalar(_report_at(at, accession).with_for_update())
    if report is None or report.booking_id is None:
        return await _keep_unmatched(uow, at, source, accession, kind, occurred_at, payload or {})
    return await _apply(uow, report, kind, occurred_at)


async def _keep_unmatched(
    uow: UnitOfWork,
    site: int,
    source: str,
    accession: str,
    kind: ReportEvent,
    occurred_at: datetime,
    payload: dict[str, Any],
) -> Outcome:
    same = [
        UnmatchedEvent.site_id == site,
        UnmatchedEvent.accession_number == accession,
        UnmatchedEvent.kind == kind.value,
    ]
    if kind is ReportEvent.CORRECTED:  # each correction is its own event
        same.append(UnmatchedEvent.occurred_at == occurred_at)
    else:  # images ready and final happen once; a repeat (a new time) is the same event
        same.append(UnmatchedEvent.resolved_at.is_(None))
    seen = await uow.session.scalar(select(UnmatchedEvent.id).where(*same).limit(1))
    if seen is None:
        uow.session.add(
            UnmatchedEvent(
                site_id=site,
                source=source,
                kind=kind.value,
                accession_number=accession,
                occurred_at=occurred_at,
                payload=payload,
                received_at=uow.clock.now(),
            )
        )
    return Outcome.UNMATCHED


async def _apply(
    uow: UnitOfWork, report: Report, kind: ReportEvent, occurred_at: datetime
) -> Outcome:
    booking = await uow.session.get(Booking, report.booking_id)
    assert booking is not None
    if kind is ReportEvent.IMAGES_READY:
        if report.images_ready_at is not None:
            return Outcome.DUPLICATE
        report.images_ready_at = occurred_at
        if report.status == ReportStatus.PENDING:
            report.status = ReportStatus.IMAGES_READY
        if booking.status in (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN):
            booking.status = BookingStatus.COMPLETED
            booking.ended_at = uow.clock.now()
        key, notice = f"report:{report.id}:images_ready", Notice.IMAGES_READY
    elif kind is ReportEvent.FINAL:
        if report.final_at is not None:
            return Outcome.DUPLICATE
        report.final_at = occurred_at
        if report.status != ReportStatus.CORRECTED:
            report.status = ReportStatus.FINAL
        key, notice = f"report:{report.id}:final", Notice.REPORT_READY
    else:
        if report.corrected_at == occurred_at:
            return Outcome.DUPLICATE
        report.corrected_at = occurred_at
        report.status = ReportStatus.CORRECTED
        if not await may_tell_correction(uow, report.id):
            return Outcome.APPLIED  # recorded; the patient has heard enough of it today
        key = f"{corrected_key(report.id)}{occurred_at.isoformat()}"
        notice = Notice.REPORT_CORRECTED
    patient = await uow.session.get(Patient, booking.patient_id)
    if patient is None or is_erased(patient):
        return Outcome.APPLIED  # recorded for the hospital; nobody is left to tell
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=booking.patient_id,
        kind=notice,
        dedup_key=key,
        params={
            "booking_id": booking.id,
            "exam_id": booking.exam_id,
            "report_id": report.id,
            "pickup_code": report.pickup_code,
        },
        booking_id=booking.id,
    )
    return Outcome.APPLIED


async def unmatched_events(uow: UnitOfWork, actor: Actor) -> list[UnmatchedEvent]:
    """Events of the sites ``actor`` may see waiting to be joined to a booking, oldest first."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    rows = await uow.session.scalars(
        select(UnmatchedEvent)
        .where(
            UnmatchedEvent.resolved_at.is_(None),
            sites.in_scope(actor, UnmatchedEvent.site_id),
        )
        .order_by(UnmatchedEvent.received_at, UnmatchedEvent.id)
    )
    return list(rows)


async def resolve_unmatched(uow: UnitOfWork, actor: Actor, event_id: int, booking_id: int) -> None:
    """Staff say which booking an unmatched event belongs to; it is applied now.

    Raises NotFound when the event or the booking is not there, is of a site ``actor`` may
    not see, or when they are of different sites (another hospital's number means another
    exam, even when it reads the same).
    """
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    event = await uow.session.get(UnmatchedEvent, event_id)
    booking = await uow.session.get(Booking, booking_id)
    if event is None or booking is None or event.accession_number is None:
        raise NotFound()
    sites.require_site(actor, event.site_id)
    site = await booking_site(uow, booking)
    sites.require_site(actor, site)
    if site != event.site_id:
        raise NotFound()
    await attach_accession(uow, actor, booking, event.accession_number)
    event.resolved_by = actor.id


async def results_for_patient(
    uow: UnitOfWork, actor: Actor, patient_id: int
) -> list[tuple[Booking, Report | None]]:
    """The patient's exams done or admitted, each with its report status (newest first)."""
    check_access(actor, await get_patient(uow, patient_id))
    rows = await uow.session.execute(
        select(Booking, Report)
        .outerjoin(Report, Report.booking_id == Booking.id)
        .where(
            Booking.patient_id == patient_id,
            Booking.status.in_([BookingStatus.CHECKED_IN, BookingStatus.COMPLETED]),
        )
        .order_by(Booking.starts_at.desc())
    )
    return [(b, r) for b, r in rows.tuples()]


async def get_report(uow: UnitOfWork, accession_number: str, site: int | None = None) -> Report:
    """The report with this accession number at ``site`` (None: the only site), or NotFound.

    Raises UnknownSite when several sites are served and ``site`` is None.
    """
    accession = parse_accession(accession_number)
    report = await uow.session.scalar(_report_at(await event_site(uow, site), accession))
    if report is None:
        raise NotFound()
    return report
