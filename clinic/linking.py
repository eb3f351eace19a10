"""Redeeming a one-time code: it links a staff member's or health worker's own chat account.

A code is issued for one person, who must have a mobile number on record (``clinic.link_codes``).
Redeeming it takes
two steps: ``check_link_code`` (the code typed after /link) and ``bind_link_code`` (the
account's own phone number, shared with the contact button, must be that mobile). Failures are
counted per chat account (``clinic.link_limits``) and, for bindings, per code; each one is
audited with the platform, the chat user id and the reason, never the code or the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from clinic import audit, link_codes, link_limits
from clinic.actors import Actor
from clinic.errors import (
    ClinicError,
    InvalidMobile,
    LinkLocked,
    NotFound,
    NotOwnContact,
    PhoneMismatch,
    WrongLinkCode,
)
from clinic.identity import parse_mobile
from clinic.models import ActorKind, HealthWorker, LinkCode, Platform, Staff
from clinic.outbox import Notice, enqueue

if TYPE_CHECKING:
    from clinic.link_limits import ChatUser
    from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class SharedContact:
    """A contact shared after /link; ``own`` when its user id is the sender's."""

    phone: str
    own: bool


async def check_link_code(uow: UnitOfWork, raw: str, who: ChatUser) -> int:
    """Step one: the id of the code typed after /link, if it may be used; the phone is next.

    Raises InvalidInput (not 10 digits: not a try), LinkLocked (this account is locked out:
    no code is looked up), WrongLinkCode (wrong, used, revoked or expired). A failure is
    recorded in ``uow``: commit it even when this raises.
    """
    code = link_codes.parse_code(raw)
    await _reserve(uow, who)
    link = await uow.session.scalar(
        select(LinkCode).where(
            LinkCode.code_hash == link_codes.code_digest(code, uow.policy.link.key)
        )
    )
    if link is None:
        await _fail(uow, who, "wrong", None, WrongLinkCode)
    reason = link_codes.unusable(link, uow.clock.now())
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
    reason = link_codes.unusable(link, uow.clock.now()) if link else "wrong"
    if link is None or reason is not None:
        await _fail(uow, who, reason or "wrong", code_id, WrongLinkCode)
    target = await _target(uow, link)
    if not contact.own:
        await _fail_binding(uow, who, link, "contact_not_own", NotOwnContact)
    if _mobile(contact.phone) != target.mobile:
        await _fail_binding(uow, who, link, "phone_mismatch", PhoneMismatch)
    if not await link_codes.spend(uow, link):
        await _fail(uow, who, "used", link.id, WrongLinkCode)
    await _link_account(uow, target, who)
    await link_limits.clear(uow, who)
    actor = Actor(ActorKind.STAFF if link.kind == "staff" else ActorKind.HEALTH_WORKER, target.id)
    await audit.record(
        uow, actor, "link_code.redeem", link.kind, target.id,
        code_id=link.id, platform=who.platform.value, chat_user_id=who.user_id,
    )  # fmt: skip
    if link.created_by is not None:  # whoever issued the code learns it was used, and by whom
        await enqueue(
            uow,
            recipient_kind=ActorKind.STAFF,
            recipient_id=link.created_by,
            kind=Notice.LINK_CODE_USED,
            dedup_key=f"link_code_used:{link.id}",
            params={"person_kind": link.kind, "person_id": target.id},
        )
    return actor


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


async def _link_account(uow: UnitOfWork, target: Staff | HealthWorker, who: ChatUser) -> None:
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
        await link_codes.revoke_after_failures(uow, link)
    await _fail(uow, who, reason, link.id, error)


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
