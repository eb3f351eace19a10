"""How often a chat account may try /link codes: failures per window, then a lockout."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.db import UTCDateTime
from clinic.models import LinkThrottle, Platform

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)
EVERYONE = ("all", 0)  # the department-wide row


@dataclass(frozen=True)
class ChatUser:
    """A Telegram or Bale account, as the platform identifies it."""

    platform: Platform
    user_id: int

    @property
    def key(self) -> tuple[str, int]:
        """The account as one key: platform name and user id."""
        return (self.platform.value, self.user_id)


@dataclass(frozen=True)
class Standing:
    """After a failure: tries left in this window, or the end of the lockout it caused."""

    left: int
    locked_until: datetime | None
    global_limit_reached: bool = False


async def reserve(uow: UnitOfWork, who: ChatUser) -> datetime | None:
    """Count a try before any code is looked up; the end of the lockout if it may not try.

    The try counts as a failure until ``refund`` or ``clear`` says otherwise. Counting first,
    in one atomic UPDATE, is what keeps concurrent tries within the limit on both databases.
    """
    now = uow.clock.now()
    locked = await _locked_until(uow, who.key, now)
    if locked is not None:
        return locked
    tries = await _bump(uow, who.key)
    if tries > await _limit(uow):
        return await _lock(uow, who.key)
    return None


async def refund(uow: UnitOfWork, who: ChatUser) -> None:
    """The try was not a failure (the code was right; the phone comes next)."""
    await uow.session.execute(
        update(LinkThrottle)
        .where(*_is(who.key), LinkThrottle.failures > 0)
        .values(failures=LinkThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )


async def clear(uow: UnitOfWork, who: ChatUser) -> None:
    """The account linked: forget its failures."""
    await uow.session.execute(
        update(LinkThrottle)
        .where(*_is(who.key))
        .values(failures=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


async def failed(uow: UnitOfWork, who: ChatUser) -> Standing:
    """The reserved try failed: count it department-wide; lock the account at its limit."""
    rules = uow.policy.link
    everyone = await _bump(uow, EVERYONE)
    reached = rules.global_failures > 0 and everyone == rules.global_failures
    if reached:
        log.warning("link codes: %s failed tries in the window; one try per account", everyone)
    tries = await uow.session.scalar(select(LinkThrottle.failures).where(*_is(who.key)))
    left = max(await _limit(uow) - (tries or 0), 0)
    locked = await _lock(uow, who.key) if left == 0 else None
    return Standing(left, locked, reached)


def _is(key: tuple[str, int]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (LinkThrottle.scope == key[0], LinkThrottle.user_id == key[1])


async def _locked_until(uow: UnitOfWork, key: tuple[str, int], now: datetime) -> datetime | None:
    until = await uow.session.scalar(select(LinkThrottle.locked_until).where(*_is(key)))
    return until if until is not None and until > now else None


async def _bump(uow: UnitOfWork, key: tuple[str, int]) -> int:
    """One more failure in the current window (a new window once it or a lockout is over)."""
    now = uow.clock.now()
    at = literal(now, UTCDateTime())
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    await uow.session.execute(
        insert(LinkThrottle)
        .values(scope=key[0], user_id=key[1], failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["scope", "user_id"])
    )
    over = or_(
        LinkThrottle.window_started_at <= now - uow.policy.link.window,
        and_(LinkThrottle.locked_until.is_not(None), LinkThrottle.locked_until <= now),
    )
    # One statement reads and writes the counter, so two tries at once never both see 4 of 5:
    # PostgreSQL re-evaluates it on the row a concurrent UPDATE left; SQLite runs one writer.
    tries = await uow.session.scalar(
        update(LinkThrottle)
        .where(*_is(key))
        .values(
            failures=case((over, 1), else_=LinkThrottle.failures + 1),
            window_started_at=case((over, at), else_=LinkThrottle.window_started_at),
            locked_until=case((over, null()), else_=LinkThrottle.locked_until),
        )
        .returning(LinkThrottle.failures)
        .execution_options(synchronize_session=False)
    )
    return int(tries or 0)


async def _limit(uow: UnitOfWork) -> int:
    """Failures an account may have in a window: one while the department-wide limit is hit.

    Refusing everyone under attack would let an attacker lock every real staff member out;
    one try each still lets a member who types their code right link at once.
    """
    rules = uow.policy.link
    if rules.global_failures <= 0:
        return rules.account_failures
    now = uow.clock.now()
    everyone = await uow.session.scalar(
        select(LinkThrottle.failures).where(
            *_is(EVERYONE), LinkThrottle.window_started_at > now - rules.window
        )
    )
    return 1 if (everyone or 0) >= rules.global_failures else rules.account_failures


async def _lock(uow: UnitOfWork, key: tuple[str, int]) -> datetime:
    """Lock the account out (unless a concurrent try already did); the end of the lockout."""
    now = uow.clock.now()
    await uow.session.execute(
        update(LinkThrottle)
        .where(
            *_is(key),
            or_(LinkThrottle.locked_until.is_(None), LinkThrottle.locked_until <= now),
        )
        .values(locked_until=now + uow.policy.link.lockout)
        .execution_options(synchronize_session=False)
    )
    until = await uow.session.scalar(select(LinkThrottle.locked_until).where(*_is(key)))
    assert until is not None
    return until


async def prune(uow: UnitOfWork) -> int:
    """Forget the accounts whose window has passed and who are not locked out (their counts
    would start again anyway); how many rows went. The department-wide row stays."""
    now = uow.clock.now()
    result = await uow.session.execute(
        delete(LinkThrottle)
        .where(
            LinkThrottle.user_id != 0,
            LinkThrottle.window_started_at <= now - uow.policy.link.window,
            or_(LinkThrottle.locked_until.is_(None), LinkThrottle.locked_until <= now),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
