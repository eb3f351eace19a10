"""Patients: registration, updates, chat accounts and consent."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jdatetime
from sqlalchemy import select

from clinic import audit, identity_checks
from clinic.erased import not_erased
from clinic.errors import InvalidInput, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.identity import parse_mobile, parse_national_code
from clinic.jalali import to_tehran
from clinic.models import ActorKind, ChatAccount, Patient, Platform, Registrar, Role, Sex
from clinic.text import normalize_digits, normalize_text

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.actors import Actor
    from clinic.identity_checks import Proof
    from clinic.uow import UnitOfWork

LANGUAGES = ("fa", "en")
MIN_BIRTH_YEAR = 1290  # Jalali; a patient born in 1911
NAME_MAX = 80


@dataclass(frozen=True)
class PatientDetails:
    """What registration asks for, as typed by the user (normalised and validated here)."""

    national_code: str
    mobile: str
    first_name: str
    last_name: str
    birth_year: str | int
    sex: str
    language: str = "fa"


NAME_ERRORS = {
    "first": N_("Please write the first name in letters (at most {n})."),
    "last": N_("Please write the last name in letters (at most {n})."),
}


ZWNJ = "\u200c"  # a format character that is part of Persian spelling (سه‌شنبه): kept
LINK_LIKE = ("@", "://", "www.")  # chat apps turn these into links and mentions on staff screens


def parse_name(raw: str, refusal: str) -> str:
    """A name as typed, normalised: format characters (bidi overrides such as U+202E, but
    not the ZWNJ) removed; InvalidInput ``refusal`` (with ``{n}``) for no letters, digits, too
    long, or something a chat app would show as a link or a mention."""
    kept = "".join(ch for ch in raw if ch == ZWNJ or unicodedata.category(ch) != "Cf")
    name = normalize_text(kept)
    lowered = name.lower()
    if (
        not name
        or len(name) > NAME_MAX
        or any(ch.isdigit() for ch in name)
        or any(mark in lowered for mark in LINK_LIKE)
    ):
        raise InvalidInput(refusal, n=NAME_MAX)
    return name


def _name(raw: str, which: str) -> str:
    return parse_name(raw, NAME_ERRORS[which])


def parse_birth_year(raw: str | int, current_jalali_year: int) -> int:
    """A four-digit Jalali birth year, e.g. 1365; Persian digits accepted."""
    text = normalize_digits(str(raw)).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise InvalidInput(N_("Please write the birth year in four digits, like 1365."))
    year = int(text)
    if not MIN_BIRTH_YEAR <= year <= current_jalali_year:
        raise InvalidInput(
            N_("The birth year must be between {low} and {high}."),
            low=MIN_BIRTH_YEAR,
            high=current_jalali_year,
        )
    return year


def parse_sex(raw: str) -> Sex:
    """``female``/``male`` or their Persian words."""
    value = normalize_text(raw).lower()
    for sex, words in (
        (Sex.FEMALE, ("female", "f", "زن", "خانم")),
        (Sex.MALE, ("male", "m", "مرد", "آقا")),
    ):
        if value in words:
            return sex
    raise InvalidInput(N_("Please choose female or male."))


def _validated(details: PatientDetails, current_jalali_year: int) -> dict[str, object]:
    if details.language not in LANGUAGES:
        raise InvalidInput(N_("Unknown language."))
    return {
        "national_code": parse_national_code(details.national_code),
        "mobile": parse_mobile(details.mobile),
        "first_name": _name(details.first_name, "first"),
        "last_name": _name(details.last_name, "last"),
        "birth_year": parse_birth_year(details.birth_year, current_jalali_year),
        "sex": parse_sex(details.sex),
        "language": details.language,
    }


def validated(details: PatientDetails, now: datetime) -> dict[str, object]:
    """The patient's fields as typed, normalised and checked (the birth year against the
    Jalali year at ``now``). Raises InvalidInput and its subclasses."""
    return _validated(details, jdatetime.date.fromgregorian(date=to_tehran(now).date()).year)


async def find_by_national_code(uow: UnitOfWork, raw: str) -> Patient | None:
    """The patient with this national code, or None (an erased record has none)."""
    code = parse_national_code(raw)
    patient: Patient | None = await uow.session.scalar(
        select(Patient).where(Patient.national_code == code, not_erased())
    )
    return patient


async def get_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    """Load one patient or raise NotFound."""
    patient = await uow.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound()
    return patient


async def register_patient(
    uow: UnitOfWork,
    actor: Actor,
    details: PatientDetails,
    *,
    consent: bool,
    proof: Proof | None = None,
) -> Patient:
    """Register a new patient, or update the one with this national code.

    A new record registered by a patient (themself, in chat) or a health worker needs
    ``proof``: the asker's confirmed one-time code for this national code and mobile
    (``clinic.identity_checks``), spent here and kept with the consent as the evidence that
    the patient was there. Staff and the system need none (reception sees the ID card). An
    existing record is updated by its patient or its own health worker without a code (one of
    someone else's is taken on with a code: ``clinic.claims.take_on``). Raises InvalidInput
    (and its subclasses) for bad fields, NotAllowed when someone changes a record that is not
    theirs, CheckNeeded, InvalidInput when consent is missing.
    """
    now = uow.clock.now()
    fields = validated(details, now)
    if not consent:
        raise InvalidInput(N_("We can only register you after you agree to the privacy notice."))
    patient = await uow.session.scalar(
        select(Patient).where(Patient.national_code == fields["national_code"])
    )
    via = str(_registrar(actor)["registered_by"])
    evidence: dict[str, object] = {}
    if patient is None:
        if proof is not None:
            if proof.purpose != via or not _offered_by(actor, proof):
                raise identity_checks.CheckNeeded()  # a family member's check, say, or theirs
            code, mobile = str(fields["national_code"]), str(fields["mobile"])
            check = await identity_checks.spend(uow, proof, code, None, mobile=mobile)
            evidence = {"evidence": "sms_code", "check_id": check.id}
            via = f"{via}+sms"  # the consent came with the one-time code of the mobile
        elif actor.kind in (ActorKind.PATIENT, ActorKind.HEALTH_WORKER):
            raise identity_checks.CheckNeeded()  # only staff and the system see the ID card
        patient = Patient(**fields, created_at=now, **_registrar(actor))
        uow.session.add(patient)
    else:
        _check_may_update(actor, patient)
        for key, value in fields.items():
            setattr(patient, key, value)
    patient.updated_at = now
    patient.consent_at = patient.consent_at or now
    patient.consent_via = patient.consent_via or via
    await uow.session.flush()
    await audit.record(uow, actor, "patient.register", "patient", patient.id, **evidence)
    return patient


def _offered_by(actor: Actor, proof: Proof) -> bool:
    """Whether ``actor`` may offer the check: a health worker only one of their own."""
    if actor.kind is ActorKind.HEALTH_WORKER:
        return actor.id is not None and proof.asker == identity_checks.Asker.health_worker(
            actor.id
        )
    return True


def _registrar(actor: Actor) -> dict[str, object]:
    if actor.kind is ActorKind.HEALTH_WORKER:
        return {
            "registered_by": Registrar.HEALTH_WORKER,
            "registered_by_id": actor.id,
            "health_worker_id": actor.id,
        }
    if actor.kind in (ActorKind.STAFF, ActorKind.SYSTEM):
        return {"registered_by": Registrar.STAFF, "registered_by_id": actor.id}
    return {"registered_by": Registrar.SELF, "registered_by_id": None}


def _check_may_update(actor: Actor, patient: Patient) -> None:
    if actor.kind is ActorKind.PATIENT and actor.id != patient.id:
        # A national code belongs to one person; someone else typing it gets no access.
        raise NotAllowed(
            N_("This national code is already registered. Please call the department.")
        )
    if actor.kind is ActorKind.HEALTH_WORKER and patient.health_worker_id != actor.id:
        raise NotAllowed(
            N_("This patient is registered with someone else. Please call the department.")
        )


async def claim_by_verified_mobile(
    uow: UnitOfWork, raw_national_code: str, verified_mobile: str
) -> Patient | None:
    """An existing patient whose registered mobile is the one the chat platform verified.

    Lets a patient registered by a health worker or reception take over their own record from
    a phone that shows the same number. None otherwise (an unknown national code, or one on
    record with another mobile: the caller answers both alike and sends a one-time code,
    ``clinic.identity_checks``).
    """
    patient = await find_by_national_code(uow, raw_national_code)
    if patient is None or patient.mobile != parse_mobile(verified_mobile):
        return None
    return patient


def check_access(actor: Actor, patient: Patient) -> None:
    """Raise NotAllowed unless ``actor`` may see and act for ``patient``: the system, staff
    holding reception (or admin), the patient or an account acting for them, their worker."""
    if actor.kind is ActorKind.SYSTEM:
        return
    if actor.kind is ActorKind.STAFF:
        actor.require_role(Role.RECEPTION)  # reporting and broadcasting see no patient record
        return
    if actor.acts_for(patient.id):  # themself, or a family member on their chat account
        return
    if actor.kind is ActorKind.HEALTH_WORKER and patient.health_worker_id == actor.id:
        return
    raise NotAllowed()


async def link_chat_account(
    uow: UnitOfWork,
    patient_id: int,
    platform: Platform,
    user_id: int,
    chat_id: int,
    *,
    is_self: bool = True,
) -> ChatAccount:
    """Let a Telegram or Bale account act for a patient; linking twice is harmless."""
    await get_patient(uow, patient_id)
    account = await uow.session.scalar(
        select(ChatAccount).where(
            ChatAccount.platform == platform,
            ChatAccount.user_id == user_id,
            ChatAccount.patient_id == patient_id,
        )
    )
    if account is None:
        account = ChatAccount(
            platform=platform,
            user_id=user_id,
            chat_id=chat_id,
            patient_id=patient_id,
            is_self=is_self,
            linked_at=uow.clock.now(),
        )
        uow.session.add(account)
    account.chat_id = chat_id
    await uow.session.flush()
    return account


async def patients_for_chat(uow: UnitOfWork, platform: Platform, user_id: int) -> list[Patient]:
    """The patients a chat account may act for, its own first."""
    rows = await uow.session.scalars(
        select(Patient)
        .join(ChatAccount, ChatAccount.patient_id == Patient.id)
        .where(ChatAccount.platform == platform, ChatAccount.user_id == user_id)
        .order_by(ChatAccount.is_self.desc(), Patient.id)
    )
    return list(rows)


async def record_consent(uow: UnitOfWork, actor: Actor, patient_id: int, via: str) -> None:
    """Record that the patient agreed to the privacy notice (through ``via``)."""
    patient = await get_patient(uow, patient_id)
    check_access(actor, patient)
    patient.consent_at = uow.clock.now()
    patient.consent_via = via
    await audit.record(uow, actor, "patient.consent", "patient", patient.id, via=via)


async def set_language(uow: UnitOfWork, actor: Actor, patient_id: int, language: str) -> None:
    """Save the patient's language for chat and notifications."""
    if language not in LANGUAGES:
        raise InvalidInput(N_("Unknown language."))
    patient = await get_patient(uow, patient_id)
    check_access(actor, patient)
    patient.language = language


async def patients_of_worker(uow: UnitOfWork, actor: Actor) -> list[Patient]:
    """The patients a health worker registered or was assigned, by last name."""
    if actor.kind is not ActorKind.HEALTH_WORKER:
        raise NotAllowed()
    rows = await uow.session.scalars(
        select(Patient)
        .where(Patient.health_worker_id == actor.id, not_erased())
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
    )
    return list(rows)
