"""The results desk: a pickup code looked up, whose report it is shown, its handover recorded.

A code that matches nothing says only that (never whether it is someone's collected report, or
anything about anyone), and every look-up is audited, found or not, with the staff member who
made it. Codes that match nothing are counted per staff member and department-wide like /link
codes (``clinic.link_limits.PICKUP``): a reception account, stolen or not, cannot walk the
5-digit space. Reports are handed over once they are final (or corrected): to the patient, or to
someone they sent, with reception's note (who, which ID they showed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import audit, link_limits, sites
from clinic.codes import new_code, parse_code
from clinic.errors import Conflict, InvalidInput, NotFound
from clinic.i18n import N_
from clinic.identity import mask_national_code
from clinic.models import Booking, Device, Exam, Patient, Report, ReportStatus, Role
from clinic.text import normalize_text

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

PICKUP_LENGTH = 6
READY = (ReportStatus.FINAL, ReportStatus.CORRECTED)
TO_WHOM = ("patient", "proxy")  # the patient themself, or someone they sent
MAX_NOTE = 300


class NoSuchPickupCode(NotFound):
    """The code matches no report (mistyped, or not ours)."""

    code = "pickup_code_unknown"
    message = N_("No report has this pickup code. Please check it with the patient.")


class PickupPaused(InvalidInput):
    """Too many codes from this staff member matched nothing; none is looked up until
    ``until``."""

    code = "pickup_paused"
    message = N_(
        "Too many pickup codes typed from this account matched no report. For patients' "
        "safety, look-ups are paused until {until} (Tehran time); an admin can help meanwhile."
    )

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(until=until.isoformat(timespec="minutes"))


def _desk(actor: Actor) -> link_limits.Counter:
    """Whose pickup tries are counted: the staff member (the terminal's operator as one)."""
    return link_limits.Counter("staff" if actor.id is not None else "terminal", actor.id or 0)


@dataclass(frozen=True)
class HandoverCard:
    """What the results desk sees for a pickup code: enough to check the patient's ID card."""

    report_id: int
    accession_number: str
    status: ReportStatus
    patient_name: str
    national_code: str  # masked: the desk compares it with the card
    birth_year: int
    exam_fa: str
    exam_en: str
    exam_day: datetime | None
    collected_at: datetime | None
    collected_to: str | None
    collected_note: str | None

    @property
    def ready(self) -> bool:
        """Whether the report may be handed over (final or corrected, not yet collected)."""
        return self.status in READY and self.collected_at is None


async def unique_pickup_code(uow: UnitOfWork) -> str:
    """A pickup code no report not yet collected has."""
    while True:
        code = new_code(PICKUP_LENGTH)
        taken = await uow.session.scalar(
            select(Report.id).where(Report.pickup_code == code, Report.collected_at.is_(None))
        )
        if taken is None:
            return code


async def look_up(uow: UnitOfWork, actor: Actor, raw: str) -> HandoverCard:
    """The report behind the pickup code (reception of its site); audited, found or not.

    Raises NotAllowed, NoSuchPickupCode (also for a mistyped code: the check digit fails, and
    for another site's report: it is collected there), PickupPaused (too many codes matched
    nothing: none is looked up). A code whose check digit fails is no guess and is not
    counted; one that matches nothing is. Commit the look-up's audit entry even when this
    raises.
    """
    actor = actor.require_role(Role.RECEPTION)
    code = parse_code(raw)
    row = None
    desk = _desk(actor)
    if code is not None:
        paused = await link_limits.reserve(uow, desk, link_limits.PICKUP)
        if paused is not None:
            await audit.record(
                uow, actor, "report.pickup_lookup", "report", None, found=False, paused=True
            )
            raise PickupPaused(paused)
        row = (
            await uow.session.execute(
                select(Report, Patient, Exam, Booking.starts_at)
                .join(Booking, Booking.id == Report.booking_id)
                .join(Patient, Patient.id == Booking.patient_id)
                .join(Exam, Exam.id == Booking.exam_id)
                .join(Device, Device.id == Booking.device_id)
                .where(Report.pickup_code == code, sites.in_scope(actor, Device.department_id))
                .order_by(Report.collected_at.is_not(None), Report.id.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        until = None
        if code is not None:  # a real guess: counted
            until = (await link_limits.failed(uow, desk, link_limits.PICKUP)).locked_until
        flag = {"paused": True} if until is not None else {}
        await audit.record(uow, actor, "report.pickup_lookup", "report", None, found=False, **flag)
        if until is not None:
            raise PickupPaused(until)
        raise NoSuchPickupCode()
    await link_limits.refund(uow, desk, link_limits.PICKUP)
    report, patient, exam, starts_at = row._tuple()
    await audit.record(uow, actor, "report.pickup_lookup", "report", report.id, found=True)
    return HandoverCard(
        report.id, report.accession_number, report.status,
        f"{patient.first_name} {patient.last_name}", mask_national_code(patient.national_code),
        patient.birth_year, exam.name_fa, exam.name_en, starts_at, report.collected_at,
        report.collected_to, report.collected_note,
    )  # fmt: skip


async def _ours(uow: UnitOfWork, actor: Actor, report: Report) -> bool:
    """Whether the report is of a site ``actor`` works at (its booking's device's)."""
    if report.booking_id is None:
        return actor.sites is None
    booking = await uow.session.get(Booking, report.booking_id)
    site = await sites.device_site(uow, booking.device_id) if booking else None
    return sites.may_act_at(actor, site)


async def hand_over(
    uow: UnitOfWork, actor: Actor, report_id: int, *, to: str, note: str = ""
) -> Report:
    """Record that the report was collected (reception), by the patient or their ``proxy``.

    A proxy's note (their name, relation, the ID they showed) is required. Raises NotAllowed,
    NotFound, InvalidInput, Conflict (not final yet, or already collected).
    """
    actor = actor.require_role(Role.RECEPTION)
    if to not in TO_WHOM:
        raise InvalidInput(N_("Say whether the patient or someone they sent collects it."))
    text = normalize_text(note)[:MAX_NOTE]
    if to == "proxy" and not text:
        raise InvalidInput(
            N_("Please note who collects it for the patient and the ID they showed.")
        )
    report = await uow.session.get(Report, report_id, with_for_update=True)
    if report is None or not await _ours(uow, actor, report):
        raise NotFound()
    if report.collected_at is not None:
        raise Conflict(N_("This report was already collected."))
    if report.status not in READY:
        raise Conflict(N_("This report is not final yet; it cannot be handed over."))
    report.collected_at = uow.clock.now()
    report.collected_by = actor.id
    report.collected_to = to
    report.collected_note = text or None
    await audit.record(uow, actor, "report.handed_over", "report", report.id, to=to)
    return report
