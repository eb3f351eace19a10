"""Outbound booking events: each booking change the hospital's systems are told of, written
in the change's own transaction (as the outbox's notices are), one row for each adapter the
department enables (``Policy.outbound``), so a crash never loses or invents one.

The sender (a later part of issue 13) claims them in order per referral: a move gives a new
booking, but the same referral, and a change is never told before the one it follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.models import ActorKind, Booking, OutboundEvent, OutboxStatus

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.outbound_views import OutboundKind
    from clinic.uow import UnitOfWork


async def record(
    uow: UnitOfWork, booking: Booking, kind: OutboundKind, actor: Actor | None = None
) -> None:
    """Write ``kind`` of ``booking`` for every enabled adapter (none enabled: nothing)."""
    now = uow.clock.now()
    staff = actor.id if actor is not None and actor.kind is ActorKind.STAFF else None
    for adapter in uow.policy.outbound:
        uow.session.add(
            OutboundEvent(
                adapter=adapter, kind=kind.value, booking_id=booking.id,
                referral_id=booking.referral_id, staff_id=staff, status=OutboxStatus.PENDING,
                attempts=0, next_attempt_at=now, created_at=now,
            )
        )  # fmt: skip


async def next_due(uow: UnitOfWork, adapter: str) -> OutboundEvent | None:
    """The oldest due event of ``adapter`` whose referral has no earlier one still to send
    (pending or being sent): one booking's events go out in the order they happened."""
    rows = await uow.session.scalars(
        select(OutboundEvent)
        .where(
            OutboundEvent.adapter == adapter,
            OutboundEvent.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        .order_by(OutboundEvent.id)
    )
    blocked: set[int] = set()
    now = uow.clock.now()
    for event in rows:
        if event.referral_id in blocked:
            continue
        if event.status == OutboxStatus.PENDING and event.next_attempt_at <= now:
            return event
        blocked.add(event.referral_id)  # an earlier one of this referral is not sent yet
    return None


__all__ = ["next_due", "record"]
