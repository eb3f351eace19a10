"""Referrals: submitting the prescription with the screening answers, and staff review."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jdatetime
from sqlalchemy import select

from clinic import audit, limits, sites
from clinic.department_setup import ExamView, QuestionView, department_setup
from clinic.errors import Conflict, InvalidInput, NotAllowed, NotFound, ScreeningBlocked
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.models import (
    ActorKind,
    Insurer,
    Patient,
    Referral,
    ReferralSource,
    ReferralStatus,
    Role,
    Sex,
)
from clinic.outbox import Notice, enqueue
from clinic.patients import check_access, get_patient
from clinic.text import normalize_digits, normalize_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

ALLOWED_FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")
MAX_FILE_BYTES = 10 * 1024 * 1024
TRACKING_CODE = re.compile(r"[A-Za-z0-9]{4,20}", re.ASCII)
REASON_MAX = 500


@dataclass(frozen=True)
class PrescriptionFile:
    """A stored upload of a paper prescription (the bytes live in the file store)."""

    ref: str
    content_type: str
    size: int


def parse_tracking_code(raw: str) -> str:
    """An e-prescription tracking code: 4-20 letters or digits, Persian digits accepted."""
    code = normalize_digits(raw).replace(" ", "").replace("-", "").upper()
    if not TRACKING_CODE.fullmatch(code):
        raise InvalidInput(
            N_("The e-prescription tracking code is 4 to 20 digits or letters. Please check it.")
        )
    return code


def check_file(file: PrescriptionFile) -> None:
    """Reject files we cannot show to reception: wrong type, empty or too large."""
    if file.content_type not in ALLOWED_FILE_TYPES:
        raise InvalidInput(N_("Please send a photo (JPEG or PNG) or a PDF of the prescription."))
    if not 0 < file.size <= MAX_FILE_BYTES:
        raise InvalidInput(N_("The file must be smaller than {mb} MB."), mb=MAX_FILE_BYTES >> 20)


def patient_age(patient: Patient, uow: UnitOfWork) -> int:
    """Age in whole Jalali years (birth year only is known, so it may be one too many)."""
    today = jdatetime.date.fromgregorian(date=to_tehran(uow.clock.now()).date())
    return int(today.year) - patient.birth_year


def applies(question: QuestionView, patient: Patient, age: int) -> bool:
    """Whether ``question`` must be asked of this patient (sex and age limits)."""
    if question.female_only and patient.sex != Sex.FEMALE:
        return False
    if question.min_age is not None and age < question.min_age:
        return False
    return question.max_age is None or age <= question.max_age


def is_blocking(question: QuestionView, answer: bool) -> bool:
    """True when this answer rules the exam out until the department has talked to the patient."""
    return question.blocking_answer is not None and answer == question.blocking_answer


async def load_exam(uow: UnitOfWork, exam_id: int) -> ExamView:
    """An active exam with its preparation and screening questions, or NotFound."""
    return (await department_setup(uow)).active_exam(exam_id)


async def screening_for(uow: UnitOfWork, exam_id: int, patient_id: int) -> list[QuestionView]:
    """The questions this patient must answer before this exam, in order."""
    exam = await load_exam(uow, exam_id)
    return questions_for(uow, exam, await get_patient(uow, patient_id))


async def answers_by_code(uow: UnitOfWork, answers: Mapping[str, bool]) -> dict[str, bool]:
    """Screening answers keyed by question id (as a chat draft keeps them) keyed by code."""
    questions = (await department_setup(uow)).questions
    found = ((questions.get(int(qid)), given) for qid, given in answers.items() if qid.isdigit())
    return {question.code: given for question, given in found if question is not None}


def questions_for(uow: UnitOfWork, exam: ExamView, patient: Patient) -> list[QuestionView]:
    """``screening_for`` with the exam (loaded by ``load_exam``) and the patient at hand."""
    age = patient_age(patient, uow)
    return [q for q in exam.questions if applies(q, patient, age)]


@dataclass(frozen=True)
class ReferralRequest:
    """What the patient (or their health worker) sends for one exam."""

    patient_id: int
    exam_id: int
    insurer: str
    screening_answers: dict[str, bool]
    tracking_code: str | None = None
    file: PrescriptionFile | None = None
    paper_seen: bool = False  # reception holds the paper prescription (no photo needed)
    site_id: int | None = None  # the centre chosen (None: the one that does it, if only one)


async def submit_referral(uow: UnitOfWork, actor: Actor, request: ReferralRequest) -> Referral:
    """Record a referral; exams that need no review are approved at once.

    A repeat referral for the same exam within the policy's window goes to review instead.
    Raises InvalidInput (missing answers, bad code or file, unknown insurer), ScreeningBlocked
    (an answer rules the exam out), OpenReferralForExam and TooManyOpenReferrals (the patient's
    caps), TrackingCodeInUse (the code backs another open referral), NotAllowed, NotFound.
    """
    patient = await get_patient(uow, request.patient_id)
    check_access(actor, patient)
    await limits.lock_patient(uow, patient.id)
    exam = await load_exam(uow, request.exam_id)
    await limits.check_new_referral(uow, actor, patient.id, exam.id)
    answers = _checked_answers(questions_for(uow, exam, patient), request.screening_answers)
    insurer = _insurer(request.insurer)
    source, code = _source(request, actor)
    if code is not None:
        await limits.check_tracking_code(uow, actor, code)
    site_id = await _site_for(uow, actor, exam.id, request.site_id)
    review = exam.needs_review or await limits.repeat_needs_review(uow, patient.id, exam.id)
    referral = _new_referral(uow, actor, request, exam, answers, review=review)
    referral.department_id = site_id
    referral.source, referral.tracking_code, referral.insurer = source, code, insurer
    uow.session.add(referral)
    patient.insurer = insurer
    await uow.session.flush()
    if review and actor.kind is not ActorKind.PATIENT:
        await enqueue(
            uow,
            recipient_kind=ActorKind.PATIENT,
            recipient_id=patient.id,
            kind=Notice.REFERRAL_RECEIVED,
            dedup_key=f"referral:{referral.id}:received",
            params={"referral_id": referral.id, "exam_id": exam.id},
        )
    await audit.record(uow, actor, "referral.submit", "referral", referral.id, review=review)
    return referral


def _new_referral(
    uow: UnitOfWork,
    actor: Actor,
    request: ReferralRequest,
    exam: ExamView,
    answers: dict[str, bool],
    *,
    review: bool,
) -> Referral:
    now = uow.clock.now()
    return Referral(
        patient_id=request.patient_id,
        exam_id=exam.id,
        file_ref=request.file.ref if request.file else None,
        file_type=request.file.content_type if request.file else None,
        file_size=request.file.size if request.file else None,
        screening_answers=answers,
        status=(ReferralStatus.SUBMITTED if review else ReferralStatus.APPROVED),
        submitted_by=actor.kind,
        submitted_by_id=actor.id,
        created_at=now,
        reviewed_at=None if review else now,
    )


async def _site_for(uow: UnitOfWork, actor: Actor, exam_id: int, chosen: int | None) -> int | None:
    """The site a referral is for: the one chosen, which must do the exam (and be the staff
    member's own), else the only one that does it (among the staff member's); else None,
    any site."""
    setup = await department_setup(uow)
    doing = {d.site for d in setup.devices_for(exam_id) if sites.may_act_at(actor, d.site)}
    if chosen is not None:
        if chosen not in doing:
            raise InvalidInput(N_("That centre does not do this exam. Please choose another."))
        return chosen
    return next(iter(doing)) if len(doing) == 1 else None


def _checked_answers(questions: list[QuestionView], given: dict[str, bool]) -> dict[str, bool]:
    missing = [q.code for q in questions if q.code not in given]
    if missing:
        raise InvalidInput(N_("Please answer every safety question first."), missing=missing)
    for question in questions:
        if is_blocking(question, given[question.code]):
            raise ScreeningBlocked(question=question.code)
    return {q.code: bool(given[q.code]) for q in questions}


def _insurer(raw: str) -> Insurer:
    try:
        return Insurer(normalize_text(raw).lower())
    except ValueError:
        raise InvalidInput(N_("Please choose your insurer from the list.")) from None


def _source(request: ReferralRequest, actor: Actor) -> tuple[ReferralSource, str | None]:
    if request.paper_seen and not request.tracking_code and not request.file:
        if actor.kind not in (ActorKind.STAFF, ActorKind.SYSTEM):
            raise NotAllowed()  # only reception (or the operator) holds the paper itself
        return ReferralSource.PAPER, None
    if request.tracking_code and request.file:
        raise InvalidInput(N_("Please send either the tracking code or the photo, not both."))
    if request.tracking_code:
        return ReferralSource.EPRESCRIPTION, parse_tracking_code(request.tracking_code)
    if request.file:
        check_file(request.file)
        return ReferralSource.PAPER, None
    raise InvalidInput(
        N_("Please send the e-prescription tracking code or a photo of the paper prescription.")
    )


async def get_referral(uow: UnitOfWork, actor: Actor, referral_id: int) -> Referral:
    """One referral the actor may see, or NotFound (never someone else's, nor another site's
    to its staff)."""
    referral = await uow.session.get(Referral, referral_id)
    if referral is None or not sites.may_act_at(actor, referral.department_id):
        raise NotFound()
    patient = await get_patient(uow, referral.patient_id)
    try:
        check_access(actor, patient)
    except Exception:
        raise NotFound() from None
    return referral


async def review_referral(
    uow: UnitOfWork, actor: Actor, referral_id: int, *, approve: bool, reason: str | None = None
) -> Referral:
    """Staff approve a referral, or reject it with a reason; the patient is told either way.

    Raises NotAllowed (not reception/admin), NotFound, Conflict (already reviewed),
    InvalidInput (rejection without a reason).
    """
    actor = actor.require_role(Role.RECEPTION)
    referral = await uow.session.get(Referral, referral_id, with_for_update=True)
    if referral is None or not sites.may_act_at(actor, referral.department_id):
        raise NotFound()
    if referral.status != ReferralStatus.SUBMITTED:
        raise Conflict(N_("This referral has already been reviewed."))
    text = normalize_text(reason or "")
    if not approve and not text:
        raise InvalidInput(N_("Please give the reason for rejecting the referral."))
    if len(text) > REASON_MAX:
        raise InvalidInput(N_("The reason is too long (at most {n} characters)."), n=REASON_MAX)
    referral.status = ReferralStatus.APPROVED if approve else ReferralStatus.REJECTED
    referral.reject_reason = None if approve else text
    referral.reviewer_id = actor.id
    referral.reviewed_at = uow.clock.now()
    kind = Notice.REFERRAL_APPROVED if approve else Notice.REFERRAL_REJECTED
    params: dict[str, object] = {"referral_id": referral.id, "exam_id": referral.exam_id}
    if not approve:
        params["reason"] = text
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=referral.patient_id,
        kind=kind,
        dedup_key=f"referral:{referral.id}:{referral.status}",
        params=params,
    )
    await audit.record(uow, actor, f"referral.{referral.status}", "referral", referral.id)
    return referral


async def pending_review(uow: UnitOfWork, actor: Actor) -> list[Referral]:
    """Referrals waiting for review at the sites ``actor`` works at, oldest first (reception
    and admin)."""
    actor = actor.require_role(Role.RECEPTION)
    rows = await uow.session.scalars(
        select(Referral)
        .where(
            Referral.status == ReferralStatus.SUBMITTED,
            sites.in_scope(actor, Referral.department_id),
        )
        .order_by(Referral.created_at, Referral.id)
    )
    return list(rows)
