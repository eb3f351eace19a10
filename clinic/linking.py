"""One-time codes that link a staff member's or health worker's chat account."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from clinic import audit
from clinic.actors import Actor
from clinic.errors import N_, InvalidInput, NotFound
from clinic.models import ActorKind, HealthWorker, LinkCode, Platform, Role, Staff
from clinic.text import normalize_digits
from clinic.uow import UnitOfWork

CODE_LIFETIME = timedelta(hours=24)
KINDS = ("staff", "health_worker")


async def issue_link_code(uow: UnitOfWork, actor: Actor, kind: str, target_id: int) -> str:
    """An 8-digit code (valid 24 hours, once) for a staff member or health worker.

    Raises NotAllowed (admins only), NotFound, InvalidInput (unknown kind).
    """
    actor.require_role(Role.ADMIN)
    if kind not in KINDS:
        raise InvalidInput(N_("Unknown account kind."))
    model = Staff if kind == "staff" else HealthWorker
    if await uow.session.get(model, target_id) is None:
        raise NotFound()
    code = f"{secrets.randbelow(90_000_000) + 10_000_000}"
    uow.session.add(
        LinkCode(
            code=code,
            kind=kind,
            target_id=target_id,
            created_by=actor.id,
            expires_at=uow.clock.now() + CODE_LIFETIME,
        )
    )
    await audit.record(uow, actor, "link_code.issue", kind, target_id)
    return code


async def redeem_link_code(uow: UnitOfWork, raw: str, platform: Platform, user_id: int) -> Actor:
    """Link this chat account with the code's staff member or worker; the code is spent.

    Raises InvalidInput for a wrong, used or expired code (one message for all three, so a
    guesser learns nothing).
    """
    code = normalize_digits(raw).strip()
    now = uow.clock.now()
    spent = await uow.session.execute(
        update(LinkCode)
        .where(LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    link = await uow.session.get(LinkCode, code) if getattr(spent, "rowcount", 0) == 1 else None
    if link is None:
        raise InvalidInput(N_("This code is not valid. Please ask the department for a new one."))
    column = "telegram_user_id" if platform is Platform.TELEGRAM else "bale_user_id"
    model: type[Staff] | type[HealthWorker] = Staff if link.kind == "staff" else HealthWorker
    for other in await uow.session.scalars(select(model).where(getattr(model, column) == user_id)):
        setattr(other, column, None)  # one chat account, one person
    await uow.session.flush()
    target: Staff | HealthWorker | None = (
        await uow.session.get(Staff, link.target_id)
        if link.kind == "staff"
        else await uow.session.get(HealthWorker, link.target_id)
    )
    if target is None:
        raise NotFound()
    setattr(target, column, user_id)
    kind = ActorKind.STAFF if link.kind == "staff" else ActorKind.HEALTH_WORKER
    actor = Actor(kind, target.id)
    await audit.record(
        uow, actor, "link_code.redeem", link.kind, target.id, platform=platform.value
    )
    return actor


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
