"""How often someone may try a secret code: failures per window, then a lockout.

One machinery for every kind of code a person types (a ``Kind``): /link codes per chat
account, the one-time SMS codes of registration per chat account or health worker, pickup
codes per staff member, and the SMS those one-time codes cost (per account and per national
code). Each kind counts in ``link_throttles`` under its own scopes, with a department-wide row
of its own where the kind has a department-wide limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement, and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.db import UTCDateTime
from clinic.models import LinkThrottle, Platform

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from clinic.policy import Policy
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)
EVERYONE = ("all", 0)  # the department-wide row (of the /link codes; other kinds prefix it)


class Counted(Protocol):
    """Whoever a kind of try is counted for: a chat account, a health worker, a staff member."""

    @property
    def key(self) -> tuple[str, int]:
        """Who it is, as one key: a scope (what kind of person) and an id."""
        ...


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
class Counter:
    """Someone counted by a key of their own (a health worker, a staff member, a national
    code's keyed digest): ``scope`` says what kind of key it is (at most 13 characters)."""

    scope: str
    id: int

    @property
    def key(self) -> tuple[str, int]:
        """The scope and the id."""
        return (self.scope, self.id)


@dataclass(frozen=True)
class Rules:
    """``failures`` tries within ``window`` lock the key out for ``lockout``; once ``everyone``
    tries of the kind failed department-wide within ``window``, each key gets one try per
    window instead (0: no department-wide limit)."""

    failures: int
    window: timedelta
    lockout: timedelta
    everyone: int = 0


def _link_rules(policy: Policy) -> Rules:
    rules = policy.link
    return Rules(rules.account_failures, rules.window, rules.lockout, rules.global_failures)


@dataclass(frozen=True)
class Kind:
    """A kind of try: the prefix of its scopes (``""`` for /link codes, whose scopes are the
    platform names) and its rules, read from the policy."""

    name: str  # for the log
    prefix: str
    rules: Callable[[Policy], Rules]

    def scope(self, key: tuple[str, int]) -> tuple[str, int]:
        """The row a key is counted in, for this kind."""
        return (self.prefix + key[0], key[1])

    @property
    def everyone(self) -> tuple[str, int]:
        """The kind's department-wide row."""
        return (self.prefix + EVERYONE[0], EVERYONE[1])


DAY = timedelta(days=1)
LINK = Kind("link codes", "", _link_rules)
# The pickup codes the results desk types that match no report: as /link codes.
PICKUP = Kind("pickup codes", "pickup.", _link_rules)


def _one_time_rules(policy: Policy) -> Rules:
    # Two codes' worth of wrong tries: a code is void after five anyway, and one new code must
    # not find the account paused for the slip that voided the first.
    rules = _link_rules(policy)
    return Rules(2 * rules.failures, rules.window, rules.lockout, rules.everyone)


# The one-time SMS codes that prove a mobile before a national code is claimed, typed wrong.
IDENTITY_CODE = Kind("one-time codes", "otp.", _one_time_rules)
# The SMS those one-time codes cost: a few a day per chat account (or health worker), and
# fewer per national code, so nobody can flood the owner of a record with codes.
SENDS_PER_ASKER = Kind("code SMS per account", "sms.", lambda _: Rules(5, DAY, DAY))
SENDS_PER_NATIONAL_CODE = Kind(
    "code SMS per national code", "smsnc.", lambda _: Rules(3, DAY, DAY)
)
KINDS = (LINK, IDENTITY_CODE, PICKUP, SENDS_PER_ASKER, SENDS_PER_NATIONAL_CODE)


@dataclass(frozen=True)
class Standing:
    """After a failure: tries left in this window, or the end of the lockout it caused."""

    left: int
    locked_until: datetime | None
    global_limit_reached: bool = False


async def reserve(uow: UnitOfWork, who: Counted, kind: Kind = LINK) -> datetime | None:
    """Count a try before any code is looked up; the end of the lockout if it may not try.

    The try counts as a failure until ``refund`` or ``clear`` says otherwise. Counting first,
    in one atomic UPDATE, is what keeps concurrent tries within the limit on both databases.
    """
    key = kind.scope(who.key)
    now = uow.clock.now()
    locked = await _locked_until(uow, key, now)
    if locked is not None:
        return locked
    tries = await _bump(uow, kind, key)
    if tries > await _limit(uow, kind):
        return await _lock(uow, kind, key)
    return None


async def refund(uow: UnitOfWork, who: Counted, kind: Kind = LINK) -> None:
    """The try was not a failure (the code was right; the phone comes next)."""
    await uow.session.execute(
        update(LinkThrottle)
        .where(*_is(kind.scope(who.key)), LinkThrottle.failures > 0)
        .values(failures=LinkThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )


async def clear(uow: UnitOfWork, who: Counted, kind: Kind = LINK) -> None:
    """The account linked: forget its failures."""
    await uow.session.execute(
        update(LinkThrottle)
        .where(*_is(kind.scope(who.key)))
        .values(failures=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


async def failed(uow: UnitOfWork, who: Counted, kind: Kind = LINK) -> Standing:
    """The reserved try failed: count it department-wide; lock the key at its limit."""
    rules, key = kind.rules(uow.policy), kind.scope(who.key)
    everyone = await _bump(uow, kind, kind.everyone)  # counted even with no such limit
    reached = rules.everyone > 0 and everyone == rules.everyone
    if reached:
        log.warning("%s: %s failed tries in the window; one try each", kind.name, everyone)
    tries = await uow.session.scalar(select(LinkThrottle.failures).where(*_is(key)))
    left = max(await _limit(uow, kind) - (tries or 0), 0)
    locked = await _lock(uow, kind, key) if left == 0 else None
    return Standing(left, locked, reached)


def _is(key: tuple[str, int]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (LinkThrottle.scope == key[0], LinkThrottle.user_id == key[1])


async def _locked_until(uow: UnitOfWork, key: tuple[str, int], now: datetime) -> datetime | None:
    until = await uow.session.scalar(select(LinkThrottle.locked_until).where(*_is(key)))
    return until if until is not None and until > now else None


async def _bump(uow: UnitOfWork, kind: Kind, key: tuple[str, int]) -> int:
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
        LinkThrottle.window_started_at <= now - kind.rules(uow.policy).window,
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


async def _limit(uow: UnitOfWork, kind: Kind) -> int:
    """Failures a key may have in a window: one while the department-wide limit is hit.

    Refusing everyone under attack would let an attacker lock every real staff member out;
    one try each still lets a member who types their code right link at once.
    """
    rules = kind.rules(uow.policy)
    if rules.everyone <= 0:
        return rules.failures
    now = uow.clock.now()
    everyone = await uow.session.scalar(
        select(LinkThrottle.failures).where(
            *_is(kind.everyone), LinkThrottle.window_started_at > now - rules.window
        )
    )
    return 1 if (everyone or 0) >= rules.everyone else rules.failures


async def _lock(uow: UnitOfWork, kind: Kind, key: tuple[str, int]) -> datetime:
    """Lock the key out (unless a concurrent try already did); the end of the lockout."""
    now = uow.clock.now()
    await uow.session.execute(
        update(LinkThrottle)
        .where(
            *_is(key),
            or_(LinkThrottle.locked_until.is_(None), LinkThrottle.locked_until <= now),
        )
        .values(locked_until=now + kind.rules(uow.policy).lockout)
        .execution_options(synchronize_session=False)
    )
    until = await uow.session.scalar(select(LinkThrottle.locked_until).where(*_is(key)))
    assert until is not None
    return until


def _of_kind(kind: Kind) -> ColumnElement[bool]:
    """The rows of ``kind``: /link codes' scopes are the bare platform names."""
    if kind.prefix:
        return LinkThrottle.scope.startswith(kind.prefix, autoescape=True)
    return LinkThrottle.scope.in_([p.value for p in Platform])


async def prune(uow: UnitOfWork) -> int:
    """Forget the keys whose window has passed and who are not locked out (their counts
    would start again anyway); how many rows went. The department-wide rows stay."""
    now = uow.clock.now()
    gone = 0
    for kind in KINDS:
        result = await uow.session.execute(
            delete(LinkThrottle)
            .where(
                _of_kind(kind),
                LinkThrottle.user_id != 0,
                LinkThrottle.window_started_at <= now - kind.rules(uow.policy).window,
                or_(LinkThrottle.locked_until.is_(None), LinkThrottle.locked_until <= now),
            )
            .execution_options(synchronize_session=False)
        )
        gone += int(getattr(result, "rowcount", 0) or 0)
    return gone
