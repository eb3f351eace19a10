"""Flood control: token buckets per bot and per chat, on an injectable clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, too_many_requests

Clock = Callable[[], float]


@dataclass(frozen=True)
class RateLimits:
    """Sends (send* and edit* calls) allowed per second; a rate of 0 disables that limit.

    Telegram documents ~30 messages per second overall and ~1 per second per chat "with short
    bursts"; ``per_chat_burst`` is that burst (messages a chat may receive at once before the
    1-per-second pace applies). Set it to 1 for the strictest reading.
    """

    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3

    @classmethod
    def disabled(cls) -> RateLimits:
        """No flood control at all (benchmarks)."""
        return cls(overall_per_second=0, per_chat_per_second=0)


class _Bucket:
    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """Checks before a send and charges after it succeeded, so rejected calls cost nothing."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._overall: _Bucket | None = None
        self._chats: dict[str, _Bucket] = {}

    def _buckets(self, chat_id: str) -> list[_Bucket]:
        now = self._clock()
        buckets: list[_Bucket] = []
        if self.limits.overall_per_second > 0:
            if self._overall is None:
                rate = self.limits.overall_per_second
                self._overall = _Bucket(rate, max(1.0, rate), now)
            buckets.append(self._overall)
        if self.limits.per_chat_per_second > 0:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                capacity = max(1, self.limits.per_chat_burst)
                bucket = _Bucket(self.limits.per_chat_per_second, capacity, now)
                self._chats[chat_id] = bucket
            buckets.append(bucket)
        for bucket in buckets:
            bucket.refill(now)
        return buckets

    def check(self, chat_id: str) -> None:
        """Raise the 429 Telegram would send if a message to ``chat_id`` now exceeds a limit."""
        wait = max((bucket.wait_time() for bucket in self._buckets(chat_id)), default=0.0)
        if wait > 0:
            raise self._error(wait)

    def charge(self, chat_id: str) -> None:
        """Record one successful send to ``chat_id``."""
        for bucket in self._buckets(chat_id):
            bucket.tokens -= 1

    @staticmethod
    def _error(wait: float) -> ApiError:
        return too_many_requests(max(1, math.ceil(wait)))

    def reset(self, limits: RateLimits | None = None) -> None:
        """Forget all history, optionally switching to new limits."""
        if limits is not None:
            self.limits = limits
        self._overall = None
        self._chats.clear()
