"""One send budget per bot token, shared by the bot's replies and the notifier's sends.

What Telegram counts (and so what this counts): messages a bot sends *and edits*; they share one
limit per chat, about one a second with short bursts (Bot FAQ, "My bot is hitting limits":
https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this; edits share it,
levlam of Telegram in tdlib/td#2592 and #3034). Bulk notifications to many users are held to
about 30 messages a second overall (same FAQ); groups to 20 a minute. answerCallbackQuery is not
limited (levlam, tdlib/telegram-bot-api#648) and is not counted; neither are reads.

Priorities: a reply to a user's own update never waits for the overall budget (Telegram limits
answers per chat, and flood control bounds how fast one account is answered); it is charged to
the overall bucket, so everything else yields to it. Background sends wait: same-day changes
may take the bucket down to empty, other notices leave a fifth of it, broadcasts two fifths,
so under pressure broadcasts stop first. Within one process they also queue in that order,
and one dispatcher asks the bucket on behalf of the queue's head.

The overall bucket lives in a ``Ledger``: in memory for one process, or in the database
(``notifier.ledger.DbLedger``) so that a ``radyar worker`` beside ``radyar run`` draws on the
same budget. The per-chat pace is kept in each process.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

Clock = Callable[[], float]


class Priority(IntEnum):
    """Which background send goes first when the budget is short (lower first); the bot's
    replies go before all of them (``SendBudget.reply``)."""

    URGENT = 1  # same-day changes and closures
    NOTICE = 2  # confirmations, reminders, preparation, results
    BULK = 3  # broadcasts


# The share of the overall bucket a background send must leave for those above it.
KEEP = {Priority.URGENT: 0.0, Priority.NOTICE: 0.2, Priority.BULK: 0.4}


@dataclass(frozen=True)
class SendLimits:
    """The platform's limits for one bot; 0 turns a limit off."""

    per_second: float = 30.0
    per_chat: float = 1.0  # messages per second to one chat, after the burst
    chat_burst: int = 3
    group_per_minute: float = 20.0


class Ledger(Protocol):
    """Where the overall bucket is kept."""

    def note(self, count: int) -> None:
        """Charge ``count`` sends already made (never blocks)."""

    async def take(self, keep: float) -> float:
        """Take a token leaving ``keep``: 0.0 when taken, else seconds to wait."""

    def pause(self, until: float) -> None:
        """Nothing is taken before ``until`` (Unix time)."""


class MemoryLedger:
    """The overall bucket of one process."""

    def __init__(self, rate: float, capacity: float, clock: Clock = time.time) -> None:
        self.rate, self.capacity, self._clock = rate, capacity, clock
        self._tokens, self._stamp, self._paused_until = capacity, clock(), 0.0

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return now

    def note(self, count: int) -> None:
        """Charge ``count`` sends already made; the bucket may go below empty."""
        self._refill()
        self._tokens = max(-self.capacity, self._tokens - count)

    async def take(self, keep: float) -> float:
        """Take a token leaving ``keep``: 0.0 when taken, else seconds to wait."""
        now = self._refill()
        if self._paused_until > now:
            return self._paused_until - now
        if self._tokens >= keep + 1:
            self._tokens -= 1
            return 0.0
        return (keep + 1 - self._tokens) / self.rate

    def pause(self, until: float) -> None:
        """Take nothing before ``until`` (Unix time)."""
        self._paused_until = max(self._paused_until, until)


@dataclass
class _Chat:
    tokens: float
    stamp: float
    paused_until: float = 0.0


class _Waiting:
    """Background sends waiting for the overall bucket, served highest priority first.

    One dispatcher asks the ledger for the waiter at the head of the queue and sleeps until
    the bucket could serve it, or until someone of higher priority arrives; so a broadcast
    waiting for its share never holds up a same-day change that needs less.
    """

    def __init__(self, take: Callable[[float], Awaitable[float]], limits: SendLimits) -> None:
        self._take, self._limits = take, limits
        self._heap: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._arrived = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    async def wait(self, priority: Priority) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (int(priority), next(self._order), waiter))
        self._arrived.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.ensure_future(self._dispatch())
        await waiter

    async def _dispatch(self) -> None:
        capacity = max(1.0, self._limits.per_second)
        while self._heap:
            priority, _, waiter = self._heap[0]
            if waiter.done():  # served, or given up (cancelled) while waiting
                heapq.heappop(self._heap)
                continue
            self._arrived.clear()
            # While the ledger is asked, a send of higher priority may arrive and become the
            # head: this waiter is resolved where it stands (never by popping the head, which
            # would drop the newcomer unanswered), and leaves the queue when it reaches the top.
            try:
                wait = await self._take(KEEP.get(Priority(priority), 0.0) * capacity)
            except Exception as exc:  # the ledger is unreachable: this send fails, not all
                if not waiter.done():
                    waiter.set_exception(exc)
                continue
            if wait <= 0:
                if not waiter.done():
                    waiter.set_result(None)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait)


class SendBudget:
    """Paces one bot's sends: replies at once, background sends in turn and within budget."""

    def __init__(
        self,
        limits: SendLimits | None = None,
        ledger: Ledger | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.limits = limits or SendLimits()
        rate = self.limits.per_second
        self.ledger: Ledger = ledger or MemoryLedger(rate or 1e9, max(1.0, rate), clock)
        self._clock = clock
        self._chats: dict[int, _Chat] = {}
        self._waiting = _Waiting(self.ledger.take, self.limits)

    async def reply(self, chat_id: int) -> None:
        """Count a reply to ``chat_id``; it waits only while the platform asked us to."""
        await self._sleep(self._chat(chat_id).paused_until - self._clock())
        self._charge(chat_id)
        self.ledger.note(1)

    async def send(self, chat_id: int, priority: Priority) -> None:
        """Wait until a background send to ``chat_id`` keeps every limit; then it is counted."""
        if self.limits.per_second > 0:
            await self._waiting.wait(priority)
        while (wait := self._chat_wait(chat_id)) > 0:
            await self._sleep(wait)
        self._charge(chat_id)

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """The platform answered "retry after ``seconds``": that chat waits, background waits."""
        until = self._clock() + seconds
        if chat_id is not None:
            chat = self._chat(chat_id)
            chat.paused_until = max(chat.paused_until, until)
        self.ledger.pause(until)

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if len(self._chats) > 10_000:
                self._forget_idle()
            burst = float(max(1, self.limits.chat_burst))
            chat = self._chats[chat_id] = _Chat(burst, self._clock())
        return chat

    def _rate(self, chat_id: int) -> float:
        return self.limits.group_per_minute / 60 if chat_id < 0 else self.limits.per_chat

    def _chat_wait(self, chat_id: int) -> float:
        chat, now, rate = self._chat(chat_id), self._clock(), self._rate(chat_id)
        if chat.paused_until > now:
            return chat.paused_until - now
        if rate <= 0:
            return 0.0
        tokens = min(
            float(max(1, self.limits.chat_burst)), chat.tokens + (now - chat.stamp) * rate
        )
        return 0.0 if tokens >= 1 else (1 - tokens) / rate

    def _charge(self, chat_id: int) -> None:
        chat, now, rate = self._chat(chat_id), self._clock(), self._rate(chat_id)
        burst = float(max(1, self.limits.chat_burst))
        chat.tokens = min(burst, chat.tokens + (now - chat.stamp) * max(rate, 0.0)) - 1
        chat.stamp = now

    def _forget_idle(self) -> None:
        now = self._clock()
        self._chats = {
            c: s for c, s in self._chats.items() if now - s.stamp < 60 or s.paused_until > now
        }

    @staticmethod
    async def _sleep(seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


__all__ = ["KEEP", "Ledger", "MemoryLedger", "Priority", "SendBudget", "SendLimits"]
