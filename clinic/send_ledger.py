"""A bot's send budget in the database, so every process sending for one bot shares it.

One row per bot holds a token bucket: ``tokens`` counted at ``stamp`` (Unix seconds), refilled
at ``rate`` per second up to ``capacity``. Taking a token is one guarded UPDATE, so concurrent
takers on SQLite and PostgreSQL never both get the last one. Spending (what the bot already
sent in reply to users) always succeeds and may leave the bucket in debt, which later takers
wait out. Times are wall-clock seconds passed in by the caller: processes on one host agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.models import SendBucket

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class Bucket:
    """The shape of one bot's bucket."""

    rate: float  # tokens per second
    capacity: float  # most tokens held (the burst)


def _level(bucket: Bucket, now: float) -> ColumnElement[float]:
    level = SendBucket.tokens + (now - SendBucket.stamp) * bucket.rate
    return case((level > bucket.capacity, bucket.capacity), else_=level)


async def _ensure(uow: UnitOfWork, bot: str, bucket: Bucket, now: float) -> None:
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    await uow.session.execute(
        insert(SendBucket)
        .values(bot=bot, tokens=bucket.capacity, stamp=now, paused_until=0.0)
        .on_conflict_do_nothing(index_elements=["bot"])
    )


async def take(uow: UnitOfWork, bot: str, bucket: Bucket, *, keep: float, now: float) -> float:
    """Take one token if at least ``keep`` more would remain; 0.0 when taken, else the seconds
    to wait before it would be (the bucket refilling, or a pause the platform asked for)."""
    level = _level(bucket, now)
    taken = await uow.session.execute(
        update(SendBucket)
        .where(SendBucket.bot == bot, SendBucket.paused_until <= now, level >= keep + 1)
        .values(tokens=level - 1, stamp=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return 0.0
    row = (
        await uow.session.execute(
            select(_level(bucket, now), SendBucket.paused_until).where(SendBucket.bot == bot)
        )
    ).first()
    if row is None:  # the bot's first send: its bucket starts full
        await _ensure(uow, bot, bucket, now)
        return await take(uow, bot, bucket, keep=keep, now=now)
    tokens, paused_until = float(row[0]), float(row[1])
    if paused_until > now:
        return paused_until - now
    return max(0.001, (keep + 1 - tokens) / bucket.rate)


async def spend(uow: UnitOfWork, bot: str, bucket: Bucket, count: int, *, now: float) -> None:
    """Record ``count`` sends already made (the debt is bounded by one burst)."""
    level = _level(bucket, now) - count
    result = await uow.session.execute(
        update(SendBucket)
        .where(SendBucket.bot == bot)
        .values(tokens=case((level < -bucket.capacity, -bucket.capacity), else_=level), stamp=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 0:
        await _ensure(uow, bot, bucket, now)
        await spend(uow, bot, bucket, count, now=now)


async def pause(uow: UnitOfWork, bot: str, bucket: Bucket, *, until: float, now: float) -> None:
    """Nobody takes a token before ``until`` (the platform answered "retry after")."""
    await _ensure(uow, bot, bucket, now)
    await uow.session.execute(
        update(SendBucket)
        .where(SendBucket.bot == bot, SendBucket.paused_until < until)
        .values(paused_until=until)
        .execution_options(synchronize_session=False)
    )
