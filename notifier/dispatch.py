"""The outbox worker: claim due rows, deliver each in its own unit of work, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.booking import release_expired_holds
from clinic.outbox import ASKED_FOR, wake_on_asked_for
from clinic.outbox_store import LEASE, claim_due
from notifier.delivery import Channels, deliver
from notifier.status import poll_delivery_states

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta

    from clinic.policy import Department
    from clinic.uow import UnitOfWork
    from notifier.sms.base import SmsProvider

log = logging.getLogger(__name__)


@dataclass
class Worker:
    """Delivers the outbox; several may run on PostgreSQL, one on SQLite."""

    uow: Callable[[], UnitOfWork]
    channels: Channels
    department: Department
    batch: int = 50
    concurrency: int = 10
    idle_seconds: float = 1.0
    lease: timedelta = LEASE
    # Delivery states are asked of ``sms_status`` (default: the SMS channel's provider) every
    # ``status_every`` seconds by ``run``; None turns polling off.
    sms_status: SmsProvider | None = None
    status_every: float | None = 60.0
    # Rows someone is waiting for at this moment (a one-time SMS code): ``run`` delivers them
    # in a lane of their own, so they never wait behind a batch whose chat notices are paced
    # by their chats' send budgets. The lane is woken as soon as this process queues one
    # (``clinic.outbox.wake_on_asked_for``) and else looks every ``urgent_every`` seconds.
    urgent: frozenset[str] = ASKED_FOR
    urgent_every: float = 1.0

    async def run_once(self, other_than: frozenset[str] = frozenset()) -> int:
        """Release lapsed holds, then deliver one batch (of every kind but ``other_than``);
        returns how many rows were handled."""
        async with self.uow() as uow:
            await release_expired_holds(uow)
            await uow.commit()
        return await self._deliver_batch(other_than=other_than)

    async def _deliver_batch(
        self, *, kinds: frozenset[str] | None = None, other_than: frozenset[str] = frozenset()
    ) -> int:
        async with self.uow() as uow:
            ids = await claim_due(uow, self.batch, self.lease, kinds=kinds, other_than=other_than)
        if not ids:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row_id: int) -> None:
            async with gate, self.uow() as uow:
                try:
                    await deliver(uow, row_id, self.channels, self.department)
                except Exception:  # one bad row must not stop the others; its lease expires
                    log.exception("outbox %s: delivery crashed", row_id)

        await asyncio.gather(*(one(i) for i in ids))
        return len(ids)

    async def poll_statuses(self) -> int:
        """Record the SMS gateways' delivery states once; returns how many rows changed."""
        provider = self.sms_status or (self.channels.sms.provider if self.channels.sms else None)
        if provider is None:
            return 0
        now = self.uow().clock.now()
        return await poll_delivery_states(self.uow, provider, now=now)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; sleep briefly when there is nothing due. Statuses are
        polled alongside, so a slow gateway status call never holds up delivery."""
        async with asyncio.TaskGroup() as group:
            if self.status_every is not None:
                group.create_task(self._poll_loop(stop, self.status_every))
            if self.urgent:
                group.create_task(self._urgent_loop(stop))
            while not stop.is_set():
                handled = await self.run_once(other_than=self.urgent)
                if handled == 0:
                    await _wait(stop, self.idle_seconds)

    async def _urgent_loop(self, stop: asyncio.Event) -> None:
        queued = asyncio.Event()
        loop = asyncio.get_running_loop()

        def wake() -> None:  # from whichever loop or thread committed the row
            loop.call_soon_threadsafe(queued.set)

        stop_waking = wake_on_asked_for(wake)
        try:
            while not stop.is_set():
                queued.clear()
                try:
                    handled = await self._deliver_batch(kinds=self.urgent)
                except Exception:  # the database hiccuped: the next look catches up
                    log.exception("urgent outbox lane crashed")
                    handled = 0
                if handled == 0:
                    await _wait_either(stop, queued, self.urgent_every)
        finally:
            stop_waking()

    async def _poll_loop(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            try:
                await self.poll_statuses()
            except Exception:  # a status poll must never stop delivery
                log.exception("sms status poll crashed")
            await _wait(stop, every)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_either(stop: asyncio.Event, other: asyncio.Event, seconds: float) -> None:
    """Until ``stop`` or ``other`` is set, or ``seconds`` have passed."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
