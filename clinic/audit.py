"""The audit log: every staff and health-worker action, and a patient's own booking changes,
with no personal data in it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from clinic.models import ActorKind, AuditEntry

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork


# Who is at the server's terminal when a ``radyar`` command acts as the system (``--as``, or
# the login name): named in each entry it writes. Unset in ``radyar run``, whose own clock-
# driven work is the system's.
OPERATOR: ContextVar[str | None] = ContextVar("operator", default=None)


async def record(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    **details: Any,
) -> None:
    """Add an audit row for ``actor`` when it is staff, a health worker or the system."""
    if actor.audited:
        _add(uow, actor, action, entity, entity_id, details)


async def change(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    **details: Any,
) -> None:
    """A change to a booking or a waitlist place (cancelled, booked or moved, joined, left):
    recorded as ``record`` does, and a patient's own change too (actor ``patient`` and the
    id of the patient acting), so staff can tell who cancelled an appointment. ``details``
    carry no personal data. A patient's looks are still not recorded (``read``)."""
    if actor.kind is ActorKind.PATIENT:
        _add(uow, actor, action, entity, entity_id, details)
    else:
        await record(uow, actor, action, entity, entity_id, **details)


def _add(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any],
) -> None:
    operator = OPERATOR.get()
    if operator and actor.kind is ActorKind.SYSTEM:
        details = {**details, "operator": operator}
    uow.session.add(
        AuditEntry(
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
            at=uow.clock.now(),
        )
    )


async def read(uow: UnitOfWork, actor: Actor, entity: str, entity_id: int, **details: Any) -> None:
    """A staff member's or health worker's look at a patient's record, a referral's file, a
    report or a list of patients' names (``<entity>.read``); the caller commits. A command at
    the server's terminal counts too (the operator is named). A patient's own look is not kept."""
    person_at_terminal = actor.kind is ActorKind.SYSTEM and OPERATOR.get()
    if actor.kind in (ActorKind.STAFF, ActorKind.HEALTH_WORKER) or person_at_terminal:
        await record(uow, actor, f"{entity}.read", entity, entity_id, **details)


async def entries_for(uow: UnitOfWork, entity: str, entity_id: int) -> list[AuditEntry]:
    """The audit trail of one record, oldest first."""
    rows = await uow.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    return list(rows)
