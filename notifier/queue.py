"""Claiming due outbox rows with a lease, so workers never send one row at the same time."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from clinic.models import OutboxMessage, OutboxStatus
from clinic.uow import UnitOfWork

LEASE = timedelta(minutes=2)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
_JITTER = random.Random()


def backoff(attempts: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """When to try again after ``attempts`` failures: doubling from 30 s, at most an hour,
    with jitter (between half and all of the delay) so retries do not arrive together."""
    delay = min(BASE_DELAY * (1 << min(max(attempts - 1, 0), 20)), MAX_DELAY)
    factor = (rng or _JITTER).uniform(0.5, 1.0)
    return now + delay * factor


async def claim_due(uow: UnitOfWork, limit: int, lease: timedelta = LEASE) -> list[int]:
    """Take up to ``limit`` due rows (or rows whose lease ran out) and lease them; commits.

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side; on
    SQLite one worker runs (writers are serialised anyway).
    """
    now = uow.clock.now()
    due = or_(
        and_(
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.lease_until < now,
        ),
    )
    stmt = select(OutboxMessage.id).where(due).order_by(OutboxMessage.next_attempt_at).limit(limit)
    if uow.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(await uow.session.scalars(stmt))
    if ids:
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                status=OutboxStatus.SENDING.value,
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
    return {status: int(count) for status, count in rows.tuples()}
