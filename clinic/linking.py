"""One-time codes that link a staff member's or health worker's own chat account.

A code is issued for one person, who must have a mobile number on record. Redeeming it takes
two steps: ``check_link_code`` (the code typed after /link) and ``bind_link_code`` (the
account's own phone number, shared with the contact button, must be that mobile). Failures are
counted per chat account (``clinic.link_limits``) and, for bindings, per code; each one is
audited with the platform, the chat user id and the reason, never the code or the number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import Update, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from clinic import audit, link_limits
from clinic.actors import Actor
from clinic.errors import (
    N_,
    ClinicError,
    Conflict,
    InvalidInput,
    InvalidMobile,
    LinkLocked,
    NotFound,
    NotOwnContact,
    PhoneMismatch,
    WrongLinkCode,
)
from clinic.identity import parse_mobile
from clinic.link_limits import ChatUser
from clinic.models import ActorKind, HealthWorker, LinkCode, Platform, Role, Staff
from clinic.outbox import Notice, enqueue
from clinic.text import normalize_digits
from clinic.uow import UnitOfWork

KINDS = ("staff", "health_worker")
CODE_DIGITS = 10
_CODE = re.compile(r"[0-9]{10}", re.ASCII)
CODE_FORMAT = N_("A link code has 10 digits. Please send it like this: /link 1234567890")
NO_MOBILE = N_(
    "There is no mobile number on record for this person. Add it first (radyar staff mobile "
    "ID 09…): the code works only from an account with that number."
)
RACE = N_("Another code was issued for this person just now. Please try again.")

__all__ = ["ChatUser", "SharedContact", "bind_link_code", "check_link_code", "issue_link_code"]


@dataclass(frozen=True)
class SharedContact:
    """A contact shared after /link; ``own`` when its user id is the sender's."""

    phone: str
    own: bool


def code_digest(code: str, key: bytes) -> str:
    """What is stored instead of the code: its HMAC-SHA256 (an empty key: plain SHA-256 use).

    With ``RADYAR_LINK_CODE_KEY`` set, a copy of the database alone cannot be searched for the
    codes; without it, 10^10 digests can be tried offline, and the 24-hour lifetime and the
    phone binding are what protect a live code.
    """
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()


def parse_code(raw: str) -> str:
    """The 10 ASCII digits of a typed code (Persian digits, spaces and dashes fine)."""
    code = re.sub(r"[\s\-]", "", normalize_digits(raw))
    if not _CODE.fullmatch(code):
        raise InvalidInput(CODE_FORMAT)
    return code


async def issue_link_code(uow: UnitOfWork, actor: Actor, kind: str, target_id: int) -> str:
    """A new code for a staff member or health worker; their earlier open codes are revoked.

    Valid ``policy.link.code_lifetime`` (24 hours), once, only from an account whose own
    number is the person's mobile. Raises NotAllowed (admins only), NotFound, InvalidInput
    (unknown kind, no mobile on record), Conflict (another code issued at the same moment).
    """
    actor.require_role(Role.ADMIN)
    if kind not in KINDS:
        raise InvalidInput(N_("Unknown account kind."))
    target: Staff | HealthWorker | None = (
        await uow.session.get(Staff, target_id)
        if kind == "staff"
        else await uow.session.get(HealthWorker, target_id)
    )
    if target is None:
        raise NotFound()
    if not target.mobile:
        raise InvalidInput(NO_MOBILE)
    now = uow.clock.now()
    revoked = await uow.session.execute(_open_codes(kind, target_id).values(revoked_at=now))
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    link = LinkCode(
        code_hash=code_digest(code, uow.policy.link.key),
        kind=kind,
        target_id=target_id,
        created_by=actor.id,
        created_at=now,
        expires_at=now + uow.policy.link.code_lifetime,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(link)
    except IntegrityError:  # a concurrent issue for the same person won the one open code
        raise Conflict(RACE) from None
    await audit.record(
        uow, actor, "link_code.issue", kind, target_id,
        code_id=link.id, revoked=int(getattr(revoked, "rowcount", 0) or 0),
    )  # fmt: skip
    return code


async def mobile_on_record(uow: UnitOfWork, kind: str, target_id: int) -> str:
    """The mobile a code for this person must be bound to ("" when there is none)."""
    model: type[Staff] | type[HealthWorker] = Staff if kind == "staff" else HealthWorker
    mobile = await uow.session.scalar(select(model.mobile).where(model.id == target_id))
    return mobile or ""


def _open_codes(kind: str, target_id: int) -> Update:
    return (
        update(LinkCode)
        .where(
            LinkCode.kind == kind,
            LinkCode.target_id == target_id,
            LinkCode.used_at.is_(None),
            LinkCode.revoked_at.is_(None),
        )
        .execution_options(synchronize_session=False)
    )


async def check_link_code(uow: UnitOfWork, raw: str, who: ChatUser) -> int:
    """Step one: the id of the code typed after /link, if it may be used; the phone is next.

    Raises InvalidInput (not 10 digits: not a try), LinkLocked (this account is locked out:
    no code is looked up), WrongLinkCode (wrong, used, revoked or expired). A failure is
    recorded in ``uow``: commit it even when this raises.
    """
    code = parse_code(raw)
    await _reserve(uow, who)
    link = await uow.session.scalar(
        select(LinkCode).where(LinkCode.code_hash == code_digest(code, uow.policy.link.key))
    )
    if link is None:
        await _fail(uow, who, "wrong", None, WrongLinkCode)
    reason = _unusable(link, uow.clock.now())
    if reason is not None:
        await _fail(uow, who, reason, link.id, WrongLinkCode)
    await link_limits.refund(uow, who)
    return link.id


async def bind_link_code(
    uow: UnitOfWork, code_id: int, who: ChatUser, contact: SharedContact
) -> Actor:
    """Step two: link the account if its own number is the person's mobile; the code is spent.

    Raises LinkLocked, WrongLinkCode (the code was revoked, used or expired meanwhile),
    NotOwnContact (someone else's contact), PhoneMismatch. The last two count against the code
    too: at ``policy.link.code_failures`` it is revoked and the admin who issued it is told.
    Failures are recorded in ``uow``: commit them even when this raises.
    """
    await _reserve(uow, who)
    link = await uow.session.get(LinkCode, code_id, populate_existing=True)
    reason = _unusable(link, uow.clock.now()) if link else "wrong"
    if link is None or reason is not None:
        await _fail(uow, who, reason or "wrong", code_id, WrongLinkCode)
    target = await _target(uow, link)
    if not contact.own:
        await _fail_binding(uow, who, link, "contact_not_own", NotOwnContact)
    if _mobile(contact.phone) != target.mobile:
        await _fail_binding(uow, who, link, "phone_mismatch", PhoneMismatch)
    if not await _spend(uow, link):
        await _fail(uow, who, "used", link.id, WrongLinkCode)
    await _link_account(uow, link, target, who)
    await link_limits.clear(uow, who)
    actor = Actor(ActorKind.STAFF if link.kind == "staff" else ActorKind.HEALTH_WORKER, target.id)
    await audit.record(
        uow, actor, "link_code.redeem", link.kind, target.id,
        code_id=link.id, platform=who.platform.value, chat_user_id=who.user_id,
    )  # fmt: skip
    return actor


def _unusable(link: LinkCode, now: datetime) -> str | None:
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return None


def _mobile(raw: str) -> str | None:
    try:
        return parse_mobile(raw)
    except InvalidMobile:  # a foreign number cannot be anyone's mobile on record
        return None


async def _target(uow: UnitOfWork, link: LinkCode) -> Staff | HealthWorker:
    target: Staff | HealthWorker | None = (
        await uow.session.get(Staff, link.target_id)
        if link.kind == "staff"
        else await uow.session.get(HealthWorker, link.target_id)
    )
    if target is None:
        raise NotFound()
    return target


async def _spend(uow: UnitOfWork, link: LinkCode) -> bool:
    """Mark the code used, if it still is open (a concurrent binding may have spent it)."""
    now = uow.clock.now()
    spent = await uow.session.execute(
        _open_codes(link.kind, link.target_id)
        .where(LinkCode.id == link.id, LinkCode.expires_at > now)
        .values(used_at=now)
    )
    return getattr(spent, "rowcount", 0) == 1


async def _link_account(
    uow: UnitOfWork, link: LinkCode, target: Staff | HealthWorker, who: ChatUser
) -> None:
    column = "telegram_user_id" if who.platform is Platform.TELEGRAM else "bale_user_id"
    model = type(target)
    for other in await uow.session.scalars(
        select(model).where(getattr(model, column) == who.user_id)
    ):
        setattr(other, column, None)  # one chat account, one person
    await uow.session.flush()
    setattr(target, column, who.user_id)


async def _reserve(uow: UnitOfWork, who: ChatUser) -> None:
    locked = await link_limits.reserve(uow, who)
    if locked is not None:
        await _audit_failure(uow, who, "locked", None)
        raise LinkLocked(locked)


async def _fail(
    uow: UnitOfWork, who: ChatUser, reason: str, code_id: int | None, error: type[ClinicError]
) -> NoReturn:
    standing = await link_limits.failed(uow, who)
    await _audit_failure(uow, who, reason, code_id, locked=standing.locked_until is not None)
    if standing.global_limit_reached:
        await audit.record(uow, Actor.system(), "link_code.global_limit", "link_code", None)
    if standing.locked_until is not None:
        raise LinkLocked(standing.locked_until)
    if error is WrongLinkCode:
        raise WrongLinkCode(left=standing.left)
    raise error()


async def _fail_binding(
    uow: UnitOfWork, who: ChatUser, link: LinkCode, reason: str, error: type[ClinicError]
) -> NoReturn:
    """A binding failed: it counts against the code as well as the account."""
    failures = await uow.session.scalar(
        update(LinkCode)
        .where(LinkCode.id == link.id)
        .values(failures=LinkCode.failures + 1)
        .returning(LinkCode.failures)
        .execution_options(synchronize_session=False)
    )
    if (failures or 0) >= uow.policy.link.code_failures:
        await _revoke_after_failures(uow, link)
    await _fail(uow, who, reason, link.id, error)


async def _revoke_after_failures(uow: UnitOfWork, link: LinkCode) -> None:
    """Revoke the code and tell the admin who issued it (codes from the CLI: audit only)."""
    now = uow.clock.now()
    revoked = await uow.session.execute(
        _open_codes(link.kind, link.target_id).where(LinkCode.id == link.id).values(revoked_at=now)
    )
    if getattr(revoked, "rowcount", 0) != 1:
        return  # already revoked or spent by a concurrent try: told once
    if link.created_by is not None:
        await enqueue(
            uow,
            recipient_kind="staff",
            recipient_id=link.created_by,
            kind=Notice.LINK_CODE_REVOKED,
            dedup_key=f"link_code_revoked:{link.id}",
            params={"person_kind": link.kind, "person_id": link.target_id},
        )
    await audit.record(
        uow, Actor.system(), "link_code.revoke", "link_code", link.id,
        reason="failed_bindings", issuer_told=link.created_by is not None,
    )  # fmt: skip


async def _audit_failure(
    uow: UnitOfWork, who: ChatUser, reason: str, code_id: int | None, *, locked: bool = False
) -> None:
    await audit.record(
        uow, Actor.chat_account(), "link_code.fail", "link_code", code_id,
        platform=who.platform.value, chat_user_id=who.user_id, reason=reason, locked_out=locked,
    )  # fmt: skip


async def worker_actor(uow: UnitOfWork, platform: Platform, user_id: int) -> Actor | None:
    """The active health worker behind a chat account (read now), or None."""
    column = (
        HealthWorker.telegram_user_id
        if platform is Platform.TELEGRAM
        else HealthWorker.bale_user_id
    )
    worker = await uow.session.scalar(
        select(HealthWorker).where(column == user_id, HealthWorker.active.is_(True))
    )
    return Actor.health_worker(worker.id) if worker else None


async def staff_with_roles(uow: UnitOfWork, staff_id: int) -> Staff:
    """A staff member with roles loaded, or NotFound."""
    member = await uow.session.scalar(
        select(Staff).where(Staff.id == staff_id).options(selectinload(Staff.roles))
    )
    if member is None:
        raise NotFound()
    return member
