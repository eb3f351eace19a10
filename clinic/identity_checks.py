"""One-time SMS codes: who claims a national code must show they hold its mobile first.

Registering oneself, a family member or (for a health worker) a patient, a national code that
is on record with another mobile and one that is new get the same answer: a 5-digit code was
sent by SMS (to the mobile on record, else to the number given). Only the right code goes on:
a new record is registered, an existing one is linked. So no answer tells whether a national
code is on record, and nobody can register or take over someone else's without their phone.

The code is kept nowhere: it is an HMAC of the check's random salt under the link-code key
(``RADYAR_LINK_CODE_KEY``), worked out when the SMS goes and when the code is typed. It lives
10 minutes and is spent once; 5 wrong codes void it. Wrong codes are counted per asker and
department-wide (``clinic.link_limits.IDENTITY_CODE``), the SMS per asker and per national
code (a new code at most once a minute), and each send, failure and success is audited with
the asker's ids, never the national code, the mobile or the code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

from sqlalchemy import ColumnElement, Select, select, update

from clinic import audit, link_limits
from clinic.actors import Actor
from clinic.errors import InvalidInput
from clinic.i18n import N_
from clinic.identity import parse_mobile
from clinic.identity_errors import (
    CheckNeeded,
    CodePaused,
    CodeUsedUp,
    NoMoreCodes,
    WaitToResend,
    WrongCode,
)
from clinic.link_limits import IDENTITY_CODE, SENDS_PER_ASKER, SENDS_PER_NATIONAL_CODE, Counter
from clinic.models import ActorKind, IdentityCheck, Patient
from clinic.outbox import Notice, enqueue
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.link_limits import ChatUser
    from clinic.uow import UnitOfWork

__all__ = [
    "Asker", "CheckNeeded", "CodePaused", "CodeSms", "CodeUsedUp", "NoMoreCodes", "Proof",
    "Verified", "WaitToResend", "WrongCode", "check_code", "code_sms", "confirmed_record",
    "national_code_digest", "parse_code", "record_mobile", "resend", "send_code", "spend",
    "tell_record_linked",
]  # fmt: skip

PURPOSES = ("self", "family", "health_worker")
CODE_DIGITS = 5
LIFETIME = timedelta(minutes=10)
FINISH_WITHIN = timedelta(hours=1)  # after the right code: time to answer the other questions
MAX_WRONG = 5
RESEND_AFTER = timedelta(seconds=60)
_CODE = re.compile(r"[0-9]{5}", re.ASCII)
CODE_FORMAT = N_("The code has 5 digits. Please type it as it is in the text message.")


@dataclass(frozen=True)
class Asker:
    """Who asks for a code: a chat account (``scope`` its platform) or a health worker."""

    scope: str
    id: int

    @classmethod
    def of_chat(cls, who: ChatUser) -> Asker:
        """A Telegram or Bale account."""
        return cls(who.platform.value, who.user_id)

    @classmethod
    def health_worker(cls, worker_id: int) -> Asker:
        """A health worker, with the patient beside them."""
        return cls("health_worker", worker_id)

    @property
    def key(self) -> tuple[str, int]:
        """As ``clinic.link_limits`` counts it."""
        return (self.scope, self.id)

    @property
    def actor(self) -> Actor:
        """Who the audit log names (a chat account is named by its ids in the details)."""
        if self.scope == "health_worker":
            return Actor.health_worker(self.id)
        return Actor.chat_account()

    @property
    def ids(self) -> dict[str, object]:
        """The audit details naming a chat account (nothing for a health worker)."""
        return (
            {}
            if self.scope == "health_worker"
            else {"platform": self.scope, "chat_user_id": self.id}
        )


@dataclass(frozen=True)
class Proof:
    """A confirmed check, offered to register or link a record: whose and what for."""

    asker: Asker
    check_id: int
    purpose: str


@dataclass(frozen=True)
class Verified:
    """The right code was typed: the record on file when it was sent (None: a new one)."""

    check_id: int
    patient_id: int | None


@dataclass(frozen=True)
class CodeSms:
    """What one code's text message carries, and where it goes."""

    mobile: str
    language: str
    code: str


def national_code_digest(national_code: str, key: bytes) -> str:
    """How a check names its national code: an HMAC-SHA256 under the link-code key."""
    return hmac.new(
        key, b"national_code:" + national_code.encode("ascii"), hashlib.sha256
    ).hexdigest()


def _code(check: IdentityCheck, key: bytes) -> str:
    mac = hmac.new(key, f"identity_code:{check.id}:{check.salt}".encode("ascii"), hashlib.sha256)
    return f"{int.from_bytes(mac.digest()[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def parse_code(raw: str) -> str:
    """The 5 ASCII digits typed (Persian and Arabic digits, spaces and dashes fine)."""
    code = re.sub(r"[\s\-]", "", normalize_digits(raw))
    if not _CODE.fullmatch(code):
        raise InvalidInput(CODE_FORMAT)
    return code


def _of_code(digest: str) -> Counter:
    """The national code as the SMS limit counts it (its digest as a positive 60-bit id)."""
    return Counter("nc", int(digest[:15], 16) or 1)


async def send_code(
    uow: UnitOfWork,
    asker: Asker,
    purpose: str,
    national_code: str,
    *,
    mobile_if_new: str,
    language: str = "fa",
) -> int:
    """Send a code for ``national_code`` (parsed): to the mobile on record when it is a
    patient's, else to ``mobile_if_new``; the check's id. The caller tells the asker the same
    in both cases. The asker's earlier open checks for ``purpose`` are void; one sent to them
    for this code less than a minute ago is returned as it is (no second text message).

    Raises NoMoreCodes (today's messages for this asker or this national code are used up),
    InvalidMobile. A refusal is counted in ``uow``: commit it even when this raises.
    """
    if purpose not in PURPOSES:
        raise InvalidInput(N_("Unknown account kind."))
    now, key = uow.clock.now(), uow.policy.link.key
    digest = national_code_digest(national_code, key)
    recent = await uow.session.scalar(
        _open(asker, purpose, now)
        .where(IdentityCheck.national_code_hash == digest)
        .where(IdentityCheck.sent_at > now - RESEND_AFTER, IdentityCheck.verified_at.is_(None))
        .order_by(IdentityCheck.id.desc())
        .limit(1)
    )
    if recent is not None:
        return recent.id
    fallback = parse_mobile(mobile_if_new)
    await _may_send(uow, asker, digest, purpose)
    await uow.session.execute(
        update(IdentityCheck)
        .where(
            *_of_asker(asker), IdentityCheck.purpose == purpose, IdentityCheck.used_at.is_(None)
        )
        .where(IdentityCheck.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    patient = await uow.session.scalar(
        select(Patient).where(Patient.national_code == national_code)
    )
    check = IdentityCheck(
        purpose=purpose, asker_scope=asker.scope, asker_id=asker.id, national_code_hash=digest,
        patient_id=patient.id if patient else None,
        mobile=patient.mobile if patient else fallback,
        language=patient.language if patient else language,
        salt=secrets.token_hex(16), sends=1, attempts=0, sent_at=now,
        expires_at=now + LIFETIME, created_at=now,
    )  # fmt: skip
    uow.session.add(check)
    await uow.session.flush()
    await _queue(uow, check)
    await audit.record(
        uow, asker.actor, "identity_check.send", "identity_check", check.id,
        purpose=purpose, sends=1, on_record=patient is not None, **asker.ids,
    )  # fmt: skip
    return check.id


async def resend(uow: UnitOfWork, asker: Asker, check_id: int) -> int:
    """A new code for the asker's check (the old one stops working), a minute after the last.

    Raises WaitToResend, NoMoreCodes, CodeUsedUp (no such open check of the asker's). Commit
    a refusal even when this raises.
    """
    now = uow.clock.now()
    check = await _mine(uow, asker, check_id)
    if check is None or check.used_at is not None or check.verified_at is not None:
        raise CodeUsedUp()
    if check.sent_at > now - RESEND_AFTER:
        raise WaitToResend()
    await _may_send(uow, asker, check.national_code_hash, check.purpose)
    check.salt, check.sends, check.attempts = secrets.token_hex(16), check.sends + 1, 0
    check.sent_at, check.expires_at = now, now + LIFETIME
    await uow.session.flush()
    await _queue(uow, check)
    await audit.record(
        uow, asker.actor, "identity_check.send", "identity_check", check.id,
        purpose=check.purpose, sends=check.sends, **asker.ids,
    )  # fmt: skip
    return check.id


async def check_code(uow: UnitOfWork, asker: Asker, check_id: int, raw: str) -> Verified:
    """The code the asker typed for their check: right, the check is confirmed (its record,
    if any, may now be linked or registered within ``FINISH_WITHIN``).

    Raises InvalidInput (not 5 digits: not a try), CodePaused (too many wrong codes: none is
    checked), WrongCode, CodeUsedUp. A failure is counted in ``uow``: commit it even when this
    raises.
    """
    code = parse_code(raw)
    paused = await link_limits.reserve(uow, asker, IDENTITY_CODE)
    if paused is not None:
        await _audit_failure(uow, asker, check_id, "paused")
        raise CodePaused(paused)
    now = uow.clock.now()
    check = await _mine(uow, asker, check_id)
    if check is None or not _open_now(check, now):
        await _fail(uow, asker, check_id, "used_up", None)
    if not hmac.compare_digest(_code(check, uow.policy.link.key), code):
        attempts = await uow.session.scalar(
            update(IdentityCheck)
            .where(IdentityCheck.id == check.id)
            .values(attempts=IdentityCheck.attempts + 1)
            .returning(IdentityCheck.attempts)
            .execution_options(synchronize_session=False)
        )
        await _fail(uow, asker, check_id, "wrong", MAX_WRONG - int(attempts or MAX_WRONG))
    check.verified_at, check.expires_at = now, now + FINISH_WITHIN
    await link_limits.refund(uow, asker, IDENTITY_CODE)
    await audit.record(
        uow, asker.actor, "identity_check.confirm", "identity_check", check.id,
        purpose=check.purpose, **asker.ids,
    )  # fmt: skip
    return Verified(check.id, check.patient_id)


def _open_now(check: IdentityCheck, now: datetime) -> bool:
    return (
        check.used_at is None
        and check.verified_at is None
        and check.expires_at > now
        and check.attempts < MAX_WRONG
    )


async def spend(
    uow: UnitOfWork,
    proof: Proof,
    national_code: str,
    patient_id: int | None,
    *,
    mobile: str | None = None,
) -> IdentityCheck:
    """Use a confirmed check once: for ``national_code``, the record it was sent for (None: a
    new one) and, given, the ``mobile`` the code went to. Raises CheckNeeded."""
    now = uow.clock.now()
    digest = national_code_digest(national_code, uow.policy.link.key)
    stmt = update(IdentityCheck).where(
        IdentityCheck.id == proof.check_id, *_of_asker(proof.asker),
        IdentityCheck.purpose == proof.purpose, IdentityCheck.national_code_hash == digest,
        IdentityCheck.verified_at.is_not(None), IdentityCheck.used_at.is_(None),
        IdentityCheck.expires_at > now,
        IdentityCheck.patient_id.is_(None) if patient_id is None
        else IdentityCheck.patient_id == patient_id,
    )  # fmt: skip
    if mobile is not None:
        stmt = stmt.where(IdentityCheck.mobile == mobile)
    spent = await uow.session.execute(
        stmt.values(used_at=now).execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise CheckNeeded()
    check = await uow.session.get(IdentityCheck, proof.check_id, populate_existing=True)
    assert check is not None
    return check


async def confirmed_record(uow: UnitOfWork, asker: Asker, check_id: int, purpose: str) -> int:
    """The record on file of the asker's confirmed, unused check for ``purpose``: the patient
    it may now link. Raises CheckNeeded (none, or the check was for a new record)."""
    check = await _mine(uow, asker, check_id)
    now = uow.clock.now()
    if (
        check is None or check.purpose != purpose or check.verified_at is None
        or check.used_at is not None or check.expires_at <= now or check.patient_id is None
    ):  # fmt: skip
        raise CheckNeeded()
    return int(check.patient_id)


async def code_sms(uow: UnitOfWork, check_id: int, send: int) -> CodeSms | None:
    """The text message of a check's ``send``-th code; None when it is of no use any more
    (confirmed, void, expired, or a newer code was sent): the notifier sends nothing."""
    check = await uow.session.get(IdentityCheck, check_id)
    if check is None or check.sends != send or not _open_now(check, uow.clock.now()):
        return None
    return CodeSms(check.mobile, check.language, _code(check, uow.policy.link.key))


async def record_mobile(uow: UnitOfWork, patient_id: int) -> tuple[str, str] | None:
    """The mobile on record of a patient and their language, for a security notice by SMS."""
    patient = await uow.session.get(Patient, patient_id)
    return (patient.mobile, patient.language) if patient else None


async def tell_record_linked(uow: UnitOfWork, check: IdentityCheck) -> None:
    """Queue the text message to the mobile on record: someone new may now act for the
    record (as banks tell of a new device). Its words name no one."""
    assert check.patient_id is not None
    await enqueue(
        uow, recipient_kind=ActorKind.PATIENT, recipient_id=check.patient_id,
        kind=Notice.RECORD_LINKED, dedup_key=f"record_linked:{check.id}",
        params={"check": check.id}, urgent=True,
    )  # fmt: skip


async def _queue(uow: UnitOfWork, check: IdentityCheck) -> None:
    # The row names the check, never the code: the notifier works it out when it sends.
    await enqueue(
        uow, recipient_kind=ActorKind.SYSTEM, recipient_id=check.id, kind=Notice.IDENTITY_CODE,
        dedup_key=f"identity_code:{check.id}:{check.sends}",
        params={"check": check.id, "send": check.sends}, urgent=True,
    )  # fmt: skip


async def _may_send(uow: UnitOfWork, asker: Asker, digest: str, purpose: str) -> None:
    for who, kind in ((asker, SENDS_PER_ASKER), (_of_code(digest), SENDS_PER_NATIONAL_CODE)):
        if await link_limits.reserve(uow, who, kind) is not None:
            await audit.record(
                uow, asker.actor, "identity_check.refuse", "identity_check", None,
                purpose=purpose, reason=kind.prefix.rstrip("."), **asker.ids,
            )  # fmt: skip
            raise NoMoreCodes()


def _of_asker(asker: Asker) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (IdentityCheck.asker_scope == asker.scope, IdentityCheck.asker_id == asker.id)


def _open(asker: Asker, purpose: str, now: datetime) -> Select[tuple[IdentityCheck]]:
    return select(IdentityCheck).where(
        *_of_asker(asker),
        IdentityCheck.purpose == purpose,
        IdentityCheck.used_at.is_(None),
        IdentityCheck.expires_at > now,
    )


async def _mine(uow: UnitOfWork, asker: Asker, check_id: int) -> IdentityCheck | None:
    check = await uow.session.get(
        IdentityCheck, check_id, with_for_update=True, populate_existing=True
    )
    if check is None or (check.asker_scope, check.asker_id) != asker.key:
        return None
    return check


async def _fail(
    uow: UnitOfWork, asker: Asker, check_id: int, reason: str, left: int | None
) -> NoReturn:
    standing = await link_limits.failed(uow, asker, IDENTITY_CODE)
    await _audit_failure(uow, asker, check_id, reason, paused=standing.locked_until is not None)
    if standing.global_limit_reached:
        await audit.record(
            uow, Actor.system(), "identity_check.global_limit", "identity_check", None
        )
    if standing.locked_until is not None:
        raise CodePaused(standing.locked_until)
    if left is None or left <= 0:
        raise CodeUsedUp()
    raise WrongCode(left=min(left, standing.left))


async def _audit_failure(
    uow: UnitOfWork, asker: Asker, check_id: int, reason: str, *, paused: bool = False
) -> None:
    await audit.record(
        uow, asker.actor, "identity_check.fail", "identity_check", check_id,
        reason=reason, paused=paused, **asker.ids,
    )  # fmt: skip
