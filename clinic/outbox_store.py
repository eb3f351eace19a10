"""The outbox as the notifier reads and leases it: claiming due rows, the recipient of a row,
the facts its wording names, the SMS rows whose delivery state is still open, and the counts
behind /metrics. The notifier delivers through these and imports no SQLAlchemy; writing a
notice stays ``clinic.outbox.enqueue``, in the transaction of the change that causes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update

from clinic.models import (
    Booking,
    Broadcast,
    ChatAccount,
    ChatUserData,
    HealthWorker,
    OutboxMessage,
    OutboxStatus,
    Patient,
    RejectedMessage,
    Staff,
    UnmatchedEvent,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from clinic.uow import UnitOfWork

LEASE = timedelta(minutes=2)


ENDED = [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.EXPIRED]


async def claim_due(
    uow: UnitOfWork,
    limit: int,
    lease: timedelta = LEASE,
    *,
    kinds: Collection[str] | None = None,
    other_than: Collection[str] = (),
) -> list[int]:
    """Take up to ``limit`` due rows (or rows whose lease ran out) and lease them; commits.
    ``kinds``: only rows of these kinds; ``other_than``: none of these (a worker's two lanes
    claim disjoint kinds, so they never take the same row).

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side; on
    SQLite one worker runs (writers are serialised anyway).
    """
    now = uow.clock.now()
    due = or_(
        and_(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.lease_until < now,
        ),
    )
    if kinds is not None:
        due = and_(due, OutboxMessage.kind.in_(kinds))
    if other_than:
        due = and_(due, OutboxMessage.kind.not_in(other_than))
    stmt = select(OutboxMessage.id).where(due).order_by(OutboxMessage.next_attempt_at).limit(limit)
    if uow.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(await uow.session.scalars(stmt))
    if ids:
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                status=OutboxStatus.SENDING,
                lease_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    await uow.commit()
    return ids


async def depth(uow: UnitOfWork) -> dict[str, int]:
    """Rows per status (for /metrics and the broadcast progress)."""
    rows = await uow.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in rows.tuples()}


async def leased(uow: UnitOfWork, row_id: int) -> OutboxMessage | None:
    """The row to deliver, if it is still being sent (leased to a worker); None otherwise."""
    row = await uow.session.get(OutboxMessage, row_id)
    if row is None or row.status != OutboxStatus.SENDING:
        return None
    return row


async def booking_of(uow: UnitOfWork, row: OutboxMessage) -> Booking | None:
    """The booking a notice is about, to re-check it at send time (the notifier acts for the
    department here, so no patient's access check applies)."""
    if row.booking_id is None:
        return None
    return await uow.session.get(Booking, row.booking_id)


@dataclass(frozen=True)
class PatientRecipient:
    """A patient to deliver to: their chat accounts (their own first, newest first) and the
    health worker who registered them, if any."""

    patient: Patient
    accounts: tuple[ChatAccount, ...]
    health_worker: HealthWorker | None


async def patient_recipient(uow: UnitOfWork, patient_id: int) -> PatientRecipient | None:
    """The patient a row goes to, with where to reach them; None if there is no such patient."""
    patient = await uow.session.get(Patient, patient_id)
    if patient is None:
        return None
    # Their own accounts first; of those, the one used last (its drafts last saved: every
    # step in the bot saves them), else the one linked last. Telegram and Bale alike.
    used = (
        select(ChatUserData.updated_at)
        .where(
            ChatUserData.platform == ChatAccount.platform,
            ChatUserData.user_id == ChatAccount.user_id,
        )
        .correlate(ChatAccount)
        .scalar_subquery()
    )
    accounts = await uow.session.scalars(
        select(ChatAccount)
        .where(ChatAccount.patient_id == patient.id)
        .order_by(
            ChatAccount.is_self.desc(),
            func.coalesce(used, ChatAccount.linked_at).desc(),
            ChatAccount.id.desc(),
        )
    )
    worker = None
    if patient.health_worker_id is not None:
        worker = await uow.session.get(HealthWorker, patient.health_worker_id)
    return PatientRecipient(patient, tuple(accounts), worker)


async def colleague(uow: UnitOfWork, kind: str, person_id: int) -> Staff | HealthWorker | None:
    """A staff member (``kind`` "staff") or a health worker a notice goes to or names."""
    model: type[Staff] | type[HealthWorker] = Staff if kind == "staff" else HealthWorker
    return await uow.session.get(model, person_id)


async def broadcast_text(uow: UnitOfWork, broadcast_id: int) -> str:
    """The words staff wrote for a broadcast; empty if it is gone."""
    broadcast = await uow.session.get(Broadcast, broadcast_id)
    return broadcast.text if broadcast else ""


@dataclass(frozen=True, slots=True)
class SmsToCheck:
    """A sent SMS whose delivery state the gateway has not yet called final."""

    id: int
    ref: str  # provider:id
    sent_at: datetime


def _ref_of(gateway: str) -> ColumnElement[bool]:
    return OutboxMessage.provider_ref.startswith(f"{gateway}:", autoescape=True)


async def sms_to_check(
    uow: UnitOfWork,
    gateways: Collection[str],
    open_states: Collection[str],
    *,
    now: datetime,
    batch: int,
    min_age: timedelta,
    recheck_every: timedelta,
) -> list[SmsToCheck]:
    """Sent SMS rows of these gateways in one of ``open_states``, at least ``min_age`` old and
    not asked about in the last ``recheck_every``, least recently asked first."""
    if not gateways:
        return []
    rows = await uow.session.execute(
        select(OutboxMessage.id, OutboxMessage.provider_ref, OutboxMessage.sent_at)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.delivery_state.in_(list(open_states)),
            or_(*(_ref_of(name) for name in gateways)),
            OutboxMessage.sent_at <= now - min_age,
            or_(
                OutboxMessage.delivery_checked_at.is_(None),
                OutboxMessage.delivery_checked_at <= now - recheck_every,
            ),
        )
        .order_by(OutboxMessage.delivery_checked_at.asc().nulls_first(), OutboxMessage.id)
        .limit(batch)
    )
    return [SmsToCheck(i, ref, sent) for i, ref, sent in rows.tuples() if ref and sent]


async def record_sms_states(
    uow: UnitOfWork, states: Mapping[int, str], open_states: Collection[str], now: datetime
) -> list[tuple[int, str, str | None, str]]:
    """Write each row's new delivery state and the time asked, for rows still in one of
    ``open_states`` (another poller may have settled one meanwhile); commits. Returns
    (id, kind, state before, state now) for each row written."""
    if not states:
        return []
    rows = await uow.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id.in_(list(states)),
            OutboxMessage.delivery_state.in_(list(open_states)),
        )
    )
    written = []
    for row in rows:
        written.append((row.id, str(row.kind), row.delivery_state, states[row.id]))
        row.delivery_state = states[row.id]
        row.delivery_checked_at = now
    await uow.commit()
    return written


@dataclass(frozen=True)
class OutboxCounts:
    """What /metrics shows of the outbox and the hospital intake's review inbox."""

    by_status: Mapping[str, int]
    done: tuple[tuple[str, str | None, str, int], ...]  # status, channel, kind, count
    latencies: tuple[tuple[datetime, datetime], ...]  # due, sent: the latest sent rows
    sms_states: Mapping[str, int]
    events_waiting: Mapping[str, int]  # unmatched hospital events by source
    messages_refused: Mapping[str, int]  # refused hospital messages not yet looked at


async def counts(uow: UnitOfWork, latency_window: int) -> OutboxCounts:
    """The counts for /metrics, read in one transaction."""
    session = uow.session
    by_status = await depth(uow)
    done = await session.execute(
        select(OutboxMessage.status, OutboxMessage.channel, OutboxMessage.kind, func.count())
        .where(OutboxMessage.status.in_(ENDED))
        .group_by(OutboxMessage.status, OutboxMessage.channel, OutboxMessage.kind)
    )
    recent = await session.execute(
        select(OutboxMessage.due_at, OutboxMessage.sent_at)
        .where(OutboxMessage.status == OutboxStatus.SENT)
        .order_by(OutboxMessage.sent_at.desc())
        .limit(latency_window)
    )
    states = await session.execute(
        select(OutboxMessage.delivery_state, func.count())
        .where(OutboxMessage.delivery_state.is_not(None))
        .group_by(OutboxMessage.delivery_state)
    )
    waiting = await session.execute(
        select(UnmatchedEvent.source, func.count())
        .where(UnmatchedEvent.resolved_at.is_(None))
        .group_by(UnmatchedEvent.source)
    )
    refused = await session.execute(
        select(RejectedMessage.source, func.count())
        .where(RejectedMessage.reviewed_at.is_(None))
        .group_by(RejectedMessage.source)
    )
    return OutboxCounts(
        by_status=by_status,
        done=tuple((str(s), c, str(k), int(n)) for s, c, k, n in done.tuples()),
        latencies=tuple((due, sent) for due, sent in recent.tuples() if sent),
        sms_states={str(k): int(v) for k, v in states.tuples()},
        events_waiting={str(k): int(v) for k, v in waiting.tuples()},
        messages_refused={str(k): int(v) for k, v in refused.tuples()},
    )


async def database_answers(uow: UnitOfWork) -> None:
    """Ask the database the smallest question (for /healthz); raises if it cannot answer."""
    await uow.session.execute(text("SELECT 1"))
