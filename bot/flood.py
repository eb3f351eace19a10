"""Flood control per chat account: past its limit an account gets one notice, then silence.

Each account has a token bucket: ``updates`` in a burst, refilled at ``updates`` per ``window``.
An update that finds the bucket empty mutes the account: that update gets the one notice, and
every later one is dropped until the account has been quiet for ``quiet`` seconds (each update
while muted restarts that wait). Nothing here touches the database, so a flood costs a dict
lookup per update. Staff and health workers get a higher limit, not none: the role is learnt
from ``mark`` as the bot reads it for each update it serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

Clock = Callable[[], float]


@dataclass(frozen=True)
class FloodLimits:
    """How many updates an account may send in a burst (and per ``window`` seconds)."""

    updates: int = 30
    staff_updates: int = 90
    window: float = 30.0
    quiet: float = 30.0


class Verdict(Enum):
    """What to do with an update."""

    SERVE = "serve"
    NOTICE = "notice"  # drop it and tell the account, once
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    staff: bool = False
    muted_until: float = 0.0


class FloodGate:
    """Decides, per account and without I/O, whether an update is served."""

    PRUNE_AT = 20_000

    def __init__(self, limits: FloodLimits | None = None, clock: Clock = time.monotonic) -> None:
        self.limits = limits or FloodLimits()
        self._clock = clock
        self._accounts: dict[int, _Bucket] = {}
        self.dropped = 0

    def _capacity(self, bucket: _Bucket) -> float:
        return float(self.limits.staff_updates if bucket.staff else self.limits.updates)

    def check(self, account: int) -> Verdict:
        """Count one update from ``account`` and say whether to serve it."""
        now = self._clock()
        bucket = self._accounts.get(account)
        if bucket is None:
            if len(self._accounts) >= self.PRUNE_AT:
                self._prune(now)
            bucket = self._accounts[account] = _Bucket(float(self.limits.updates), now)
        capacity = self._capacity(bucket)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * self._rate(capacity))
        bucket.stamp = now
        if bucket.muted_until:
            if now < bucket.muted_until:
                bucket.muted_until = now + self.limits.quiet
                self.dropped += 1
                return Verdict.DROP
            bucket.muted_until = 0.0
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.SERVE
        bucket.muted_until = now + self.limits.quiet
        self.dropped += 1
        return Verdict.NOTICE

    def mark(self, account: int, *, staff: bool) -> None:
        """Record whether ``account`` belongs to staff or a health worker (the higher limit)."""
        bucket = self._accounts.get(account)
        if bucket is not None and bucket.staff != staff:
            bucket.staff = staff
            if staff:  # the higher burst from now on, as if it had always applied
                bucket.tokens += self.limits.staff_updates - self.limits.updates
            bucket.tokens = min(bucket.tokens, self._capacity(bucket))

    def _rate(self, capacity: float) -> float:
        return capacity / self.limits.window if self.limits.window > 0 else float("inf")

    def _prune(self, now: float) -> None:
        # Accounts whose bucket has refilled and who are not muted carry no state worth keeping.
        self._accounts = {
            account: bucket
            for account, bucket in self._accounts.items()
            if bucket.muted_until > now
            or bucket.tokens + (now - bucket.stamp) * self._rate(self._capacity(bucket))
            < self._capacity(bucket)
        }
