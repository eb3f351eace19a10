"""Outbound booking events: each booking change the hospital's systems are told of, written
in the change's own transaction (as the outbox's notices are), one row for each adapter the
department enables (``Policy.outbound``), so a crash never loses or invents one.

The sender (notifier/outbound/sender.py) claims them in order per referral: a move gives a new
booking, but the same referral, and a change is never told before the one it follows. One the
receiver refused (FAILED) holds back that referral's later ones until staff send it again or
set it aside (``retry`` and ``skip``, audited): the hospital's record is never told a move of
an appointment it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from clinic import audit, sites
from clinic.errors import NotFound
from clinic.models import ActorKind, Booking, Device, OutboundEvent, OutboxStatus, Role

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy import ColumnElement, Select

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
        kinds = _kinds_for(uow, adapter)
        if kinds is not None and kind.value not in kinds:
            continue  # this adapter is not told of this kind of change
        uow.session.add(
            OutboundEvent(
                adapter=adapter, kind=kind.value, booking_id=booking.id,
                referral_id=booking.referral_id, staff_id=staff, status=OutboxStatus.PENDING,
                attempts=0, next_attempt_at=now, created_at=now,
            )
        )  # fmt: skip


# Not yet told, or told and refused: a later event of the same referral waits behind these.
UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)


def _kinds_for(uow: UnitOfWork, adapter: str) -> tuple[str, ...] | None:
    return dict(uow.policy.outbound_events).get(adapter)


async def claim(uow: UnitOfWork, adapter: str, limit: int, lease: timedelta) -> list[int]:
    """Lease up to ``limit`` due events of ``adapter`` (oldest first), none whose referral has
    an earlier one unfinished; their ``next_attempt_at`` becomes the lease's end, so a
    sender that dies mid-send has them sent again (at least once). Commits."""
    now = uow.clock.now()
    earlier = aliased(OutboundEvent)
    held_back = exists().where(
        earlier.adapter == OutboundEvent.adapter,
        earlier.referral_id == OutboundEvent.referral_id,
        earlier.id < OutboundEvent.id,
        earlier.status.in_(UNFINISHED),
    )
    due = or_(
        and_(OutboundEvent.status == OutboxStatus.PENDING, OutboundEvent.next_attempt_at <= now),
        and_(OutboundEvent.status == OutboxStatus.SENDING, OutboundEvent.next_attempt_at < now),
    )
    stmt = (
        select(OutboundEvent.id)
        .where(OutboundEvent.adapter == adapter, due, ~held_back)
        .order_by(OutboundEvent.id)
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboundEvent)
    ids = list(await uow.session.scalars(stmt))
    if ids:
        await uow.session.execute(
            update(OutboundEvent)
            .where(OutboundEvent.id.in_(ids))
            .values(
                status=OutboxStatus.SENDING,
                next_attempt_at=now + lease,
                attempts=OutboundEvent.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    await uow.commit()
    return ids


async def release(uow: UnitOfWork, ids: list[int]) -> None:
    """Give back leased events not tried (the receiver went away mid-batch): due again now,
    the lease's attempt not counted. Commits."""
    if ids:
        await uow.session.execute(
            update(OutboundEvent)
            .where(OutboundEvent.id.in_(ids), OutboundEvent.status == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.PENDING,
                next_attempt_at=uow.clock.now(),
                attempts=OutboundEvent.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
    await uow.commit()


async def next_due(uow: UnitOfWork, adapter: str) -> OutboundEvent | None:
    """The oldest event of ``adapter`` that ``claim`` would take now (without leasing it)."""
    now = uow.clock.now()
    earlier = aliased(OutboundEvent)
    held_back = exists().where(
        earlier.adapter == OutboundEvent.adapter,
        earlier.referral_id == OutboundEvent.referral_id,
        earlier.id < OutboundEvent.id,
        earlier.status.in_(UNFINISHED),
    )
    row: OutboundEvent | None = await uow.session.scalar(
        select(OutboundEvent)
        .where(
            OutboundEvent.adapter == adapter,
            OutboundEvent.status == OutboxStatus.PENDING,
            OutboundEvent.next_attempt_at <= now,
            ~held_back,
        )
        .order_by(OutboundEvent.id)
        .limit(1)
    )
    return row


async def counts(uow: UnitOfWork) -> list[tuple[str, str, int]]:
    """(adapter, state, how many) of every outbound event, for /metrics."""
    rows = await uow.session.execute(
        select(OutboundEvent.adapter, OutboundEvent.status, func.count())
        .group_by(OutboundEvent.adapter, OutboundEvent.status)
        .order_by(OutboundEvent.adapter, OutboundEvent.status)
    )
    return [(adapter, str(status), n) for adapter, status, n in rows.tuples().all()]


def _visible(actor: Actor) -> list[ColumnElement[bool]]:
    """Staff see the failed events of bookings at their sites."""
    return [
        OutboundEvent.status == OutboxStatus.FAILED,
        sites.in_scope(actor, Device.department_id),
    ]


@dataclass(frozen=True)
class FailedEvent:
    """A refused outbound event as staff see it: what, of which appointment, and why."""

    id: int
    adapter: str
    kind: str
    booking_id: int
    booking_code: str
    starts_at: datetime
    attempts: int
    answer: str
    created_at: datetime


def _failed_rows(actor: Actor) -> Select[tuple[OutboundEvent, str, datetime]]:
    return (
        select(OutboundEvent, Booking.code, Booking.starts_at)
        .join(Booking, Booking.id == OutboundEvent.booking_id)
        .join(Device, Device.id == Booking.device_id)
        .where(*_visible(actor))
        .order_by(OutboundEvent.id)
    )


def _failed_view(event: OutboundEvent, code: str, starts_at: datetime) -> FailedEvent:
    return FailedEvent(
        id=event.id, adapter=event.adapter, kind=event.kind, booking_id=event.booking_id,
        booking_code=code, starts_at=starts_at, attempts=event.attempts,
        answer=event.answer or "", created_at=event.created_at,
    )  # fmt: skip


async def failed(uow: UnitOfWork, actor: Actor, limit: int = 20) -> list[FailedEvent]:
    """Events the hospital's systems refused (or that could not be delivered for too long),
    of the sites ``actor`` may see, oldest first."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    rows = await uow.session.execute(_failed_rows(actor).limit(limit))
    return [_failed_view(*row) for row in rows.tuples().all()]


async def failed_event(uow: UnitOfWork, actor: Actor, event_id: int) -> FailedEvent:
    """One failed event as staff see it; NotFound as ``get_failed``."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    rows = await uow.session.execute(
        _failed_rows(actor).where(OutboundEvent.id == event_id).limit(1)
    )
    row = rows.tuples().first()
    if row is None:
        raise NotFound()
    return _failed_view(*row)


async def failed_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many events ``failed`` would list, without the limit."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    n = await uow.session.scalar(
        select(func.count())
        .select_from(OutboundEvent)
        .join(Booking, Booking.id == OutboundEvent.booking_id)
        .join(Device, Device.id == Booking.device_id)
        .where(*_visible(actor))
    )
    return int(n or 0)


async def get_failed(uow: UnitOfWork, actor: Actor, event_id: int) -> OutboundEvent:
    """One failed event; NotFound when none with this id failed at a site ``actor`` sees."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    row = await uow.session.scalar(
        select(OutboundEvent)
        .join(Booking, Booking.id == OutboundEvent.booking_id)
        .join(Device, Device.id == Booking.device_id)
        .where(OutboundEvent.id == event_id, *_visible(actor))
    )
    if row is None:
        raise NotFound()
    return row


async def retry(uow: UnitOfWork, actor: Actor, event_id: int) -> OutboundEvent:
    """Send a failed event again (the hospital fixed what it refused); audited."""
    row = await get_failed(uow, actor, event_id)
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = uow.clock.now()
    await audit.record(uow, actor, "outbound.retry", "outbound_event", row.id, adapter=row.adapter)
    return row


async def skip(uow: UnitOfWork, actor: Actor, event_id: int) -> OutboundEvent:
    """Set a failed event aside (staff entered it at the hospital by hand): the referral's
    later events go on; audited."""
    row = await get_failed(uow, actor, event_id)
    row.status = OutboxStatus.CANCELLED
    await audit.record(uow, actor, "outbound.skip", "outbound_event", row.id, adapter=row.adapter)
    return row


__all__ = [
    "FailedEvent", "claim", "counts", "failed", "failed_count", "failed_event", "get_failed",
    "next_due", "record", "release", "retry", "skip",
]  # fmt: skip
