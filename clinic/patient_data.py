"""A patient's data on their request (issue 15, part 3): all of it exported for them, or
erased; both by an admin of every site (or the operator at the terminal), both audited.

Erasure first needs nothing of the patient's to be open: upcoming appointments and open
requests are cancelled through the usual use cases when asked to (places free up, the
waitlist is offered them, the hospital's systems are told). The hospital's systems read the
patient's identity when a change is delivered, so the identity goes only once every change
of their bookings has been taken; until then the erasure says it waits, and is asked again.

An erased record keeps its row, its bookings, reports and referrals for the hospital, with no
identity (clinic/erased.py marks it by its national code): the real code may register again
as a new record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic import audit, limits, patient_erasure, patient_export
from clinic.booking import cancel_booking, release_expired_holds
from clinic.erased import is_erased
from clinic.errors import Conflict, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.identity import mask_national_code
from clinic.models import BookingStatus, OutboxStatus, Patient, Role, WaitlistStatus
from clinic.open_referrals import withdraw_referral
from clinic.patient_erasure import KEPT_NOTE, ErasureSummary
from clinic.patient_export import PatientExport
from clinic.patient_records import gather
from clinic.patients import find_by_national_code
from clinic.waitlist import leave_waitlist

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.files import FileStore
    from clinic.patient_records import Holdings
    from clinic.uow import UnitOfWork

PatientKey = str | int  # a national code as typed (Persian digits fine), or a record's id
NO_PATIENT = N_("No patient has this national code.")
EVERY_SITE = N_("Only an admin of every site can export or erase a patient's data.")
OPEN = (BookingStatus.HELD, BookingStatus.CONFIRMED)
UNTOLD = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)


class ErasureBlocked(Conflict):
    """The patient still has appointments or requests open; erase with cancelling them."""

    code = "erasure_blocked"
    message = N_(
        "This patient still has {bookings} upcoming appointments and {requests} open requests. "
        "Erasing their data cancels them first (their places are offered to others and the "
        "hospital's systems are told); please confirm that, or cancel them yourself first."
    )


class ExamInProgress(Conflict):
    """The patient was admitted for an exam not finished yet: erasure waits for its end."""

    code = "exam_in_progress"
    message = N_(
        "This patient has been admitted for an exam that is not finished yet. Their data can "
        "be erased once the exam is done."
    )


@dataclass(frozen=True)
class PatientCard:
    """What an admin sees before exporting or erasing: whose record, and how much there is."""

    patient_id: int
    name: str
    birth_year: int
    national_code: str  # masked
    counts: dict[str, int] = field(default_factory=dict)
    upcoming: int = 0  # held or confirmed appointments: cancelled before erasing
    open_requests: int = 0  # open referrals with no appointment: withdrawn before erasing
    admitted: int = 0  # admitted exams not finished: erasure waits for them
    untold: int = 0  # booking changes the hospital's systems have not taken yet

    @property
    def kept(self) -> str:
        """What an erasure keeps, in a sentence (English; for the operator's terminal)."""
        return KEPT_NOTE


def _admin(actor: Actor) -> Actor:
    """An admin of every site, or the operator; NotAllowed otherwise."""
    acting = actor.require_role(Role.ADMIN)
    if acting.is_staff and acting.sites is not None:  # held to some sites only
        raise NotAllowed(EVERY_SITE)
    return acting


async def _find(uow: UnitOfWork, key: PatientKey) -> Patient:
    """The patient (never an erased record); InvalidNationalCode, NotFound."""
    if isinstance(key, int):
        patient = await uow.session.get(Patient, key)
        if patient is None or is_erased(patient):
            raise NotFound()
        return patient
    found = await find_by_national_code(uow, key)
    if found is None:
        raise NotFound(NO_PATIENT)
    return found


def _open_requests(held: Holdings) -> list[int]:
    used = {b.referral_id for b in held.bookings if b.status in limits.USED_BOOKING}
    return [r.id for r in held.referrals if r.status in limits.OPEN_REFERRAL and r.id not in used]


def _unbooked(held: Holdings) -> int:
    """Open requests with no appointment (those with one go with it)."""
    booked = {b.referral_id for b in held.bookings if b.status in OPEN}
    return sum(1 for r in _open_requests(held) if r not in booked)


def _untold(held: Holdings) -> int:
    return sum(1 for e in held.told if e.status in UNTOLD)


async def patient_card(uow: UnitOfWork, actor: Actor, key: PatientKey) -> PatientCard:
    """Whose record ``key`` is and what the clinic holds about them (a look at the record,
    audited). Raises NotAllowed, InvalidNationalCode, NotFound."""
    actor = _admin(actor)
    patient = await _find(uow, key)
    held = await gather(uow, patient)
    await audit.read(uow, actor, "patient", patient.id, via="patient_data")
    return PatientCard(
        patient.id, f"{patient.first_name} {patient.last_name}", patient.birth_year,
        mask_national_code(patient.national_code), held.counts(),
        upcoming=sum(1 for b in held.bookings if b.status in OPEN),
        open_requests=_unbooked(held),
        admitted=sum(1 for b in held.bookings if b.status == BookingStatus.CHECKED_IN),
        untold=_untold(held),
    )  # fmt: skip


async def export_patient(
    uow: UnitOfWork, actor: Actor, key: PatientKey, *, files: FileStore
) -> PatientExport:
    """Everything the clinic holds about the patient, with their prescription files, for a
    zip (``PatientExport.zip_bytes``); audited ``patient.exported``, the caller commits.
    Raises NotAllowed, InvalidNationalCode, NotFound."""
    actor = _admin(actor)
    patient = await _find(uow, key)
    export = await patient_export.build(uow, await gather(uow, patient), files)
    await audit.record(
        uow, actor, "patient.exported", "patient", patient.id,
        files=len(export.files), **{k: v for k, v in export.counts.items() if v},
    )  # fmt: skip
    return export


async def _cancel_open(uow: UnitOfWork, actor: Actor, held: Holdings) -> tuple[int, int]:
    """Their waitlist places first (so a freed place is not offered back to them), then
    their appointments, then their open requests: the usual use cases, each audited."""
    for entry in held.waitlist:
        if entry.status in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
            await leave_waitlist(uow, actor, entry.id)
    cancelled = 0
    for booking in held.bookings:
        if booking.status in OPEN:
            await cancel_booking(uow, actor, booking.id, reason="erasure")
            cancelled += 1
    requests = _open_requests(held)
    for referral_id in requests:
        await withdraw_referral(uow, actor, referral_id)
    await uow.session.flush()
    return cancelled, len(requests)


async def erase_patient(
    uow: UnitOfWork,
    actor: Actor,
    key: PatientKey,
    *,
    files: FileStore,
    cancel_upcoming: bool,
) -> ErasureSummary:
    """Erase the patient's personal data (clinic/patient_erasure.py says what goes and what
    stays); audited ``patient.erased`` with the counts, the caller commits.

    With ``cancel_upcoming``, their upcoming appointments and open requests are cancelled
    first. While the hospital's systems have yet to take a change of their bookings (just
    cancelled, or refused and waiting for staff), the summary says ``erased`` false and how
    many wait: commit, and ask again once they are through. Raises NotAllowed,
    InvalidNationalCode, NotFound, ErasureBlocked (open ones, without ``cancel_upcoming``),
    ExamInProgress.
    """
    actor = _admin(actor)
    patient = await _find(uow, key)
    await limits.lock_patient(uow, patient.id)  # no booking of theirs starts meanwhile
    await release_expired_holds(uow)
    held = await gather(uow, patient)
    if any(b.status == BookingStatus.CHECKED_IN for b in held.bookings):
        raise ExamInProgress()
    upcoming = sum(1 for b in held.bookings if b.status in OPEN)
    requests = _unbooked(held)
    cancelled = withdrawn = 0
    if upcoming or requests:
        if not cancel_upcoming:
            raise ErasureBlocked(bookings=upcoming, requests=requests)
        cancelled, withdrawn = await _cancel_open(uow, actor, held)
        held = await gather(uow, patient)
    waiting = _untold(held)
    if waiting:
        return ErasureSummary(patient.id, False, cancelled, withdrawn, waiting)
    summary = await patient_erasure.erase(uow, held, files)
    summary.cancelled, summary.withdrawn = cancelled, withdrawn
    await audit.record(uow, actor, "patient.erased", "patient", patient.id, **summary.details())
    return summary


__all__ = [
    "ErasureBlocked",
    "ErasureSummary",
    "ExamInProgress",
    "PatientCard",
    "PatientExport",
    "erase_patient",
    "export_patient",
    "patient_card",
]
