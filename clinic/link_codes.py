"""Link codes at rest: issued for one person, kept as an HMAC, spent once, revoked."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Update, select, update
from sqlalchemy.exc import IntegrityError

from clinic import audit
from clinic.actors import Actor
from clinic.errors import Conflict, InvalidInput, NotFound
from clinic.i18n import N_
from clinic.models import ActorKind, HealthWorker, LinkCode, Role, Staff
from clinic.outbox import Notice, enqueue
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from datetime import datetime

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


def code_digest(code: str, key: bytes) -> str:
    """What is stored instead of the code: its HMAC-SHA256 under ``RADYAR_LINK_CODE_KEY``.

    With the key set, a copy of the database alone cannot be searched for live codes. Without
    it (an empty, known key) all 10^10 digests can be tried offline in minutes; then what
    protects a live code is its lifetime and that it works only from its owner's own number.
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
    actor = actor.require_role(Role.ADMIN)
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
    revoked = await uow.session.execute(open_codes(kind, target_id).values(revoked_at=now))
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


def open_codes(kind: str, target_id: int) -> Update:
    """An UPDATE of the target's codes that are neither used nor revoked (add ``values``)."""
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


def unusable(link: LinkCode, now: datetime) -> str | None:
    """Why the code cannot be used now (used, revoked, expired), or None."""
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return None


async def spend(uow: UnitOfWork, link: LinkCode) -> bool:
    """Mark the code used, if it still is open (a concurrent binding may have spent it)."""
    now = uow.clock.now()
    spent = await uow.session.execute(
        open_codes(link.kind, link.target_id)
        .where(LinkCode.id == link.id, LinkCode.expires_at > now)
        .values(used_at=now)
    )
    return getattr(spent, "rowcount", 0) == 1


async def revoke_after_failures(uow: UnitOfWork, link: LinkCode) -> None:
    """Revoke the code and tell the admin who issued it (codes from the CLI: audit only)."""
    now = uow.clock.now()
    revoked = await uow.session.execute(
        open_codes(link.kind, link.target_id).where(LinkCode.id == link.id).values(revoked_at=now)
    )
    if getattr(revoked, "rowcount", 0) != 1:
        return  # already revoked or spent by a concurrent try: told once
    if link.created_by is not None:
        await enqueue(
            uow,
            recipient_kind=ActorKind.STAFF,
            recipient_id=link.created_by,
            kind=Notice.LINK_CODE_REVOKED,
            dedup_key=f"link_code_revoked:{link.id}",
            params={"person_kind": link.kind, "person_id": link.target_id},
        )
    await audit.record(
        uow, Actor.system(), "link_code.revoke", "link_code", link.id,
        reason="failed_bindings", issuer_told=link.created_by is not None,
    )  # fmt: skip
