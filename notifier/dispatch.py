"""The outbox worker: claim due rows, deliver each in its own unit of work, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.booking import release_expired_holds
from clinic.outbox_store import LEASE, claim_due
from notifier import identity_sms
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
    # in a lane of their own, looked at every ``urgent_every`` seconds, so they never wait
    # behind a batch whose chat notices are paced by their chats' send budgets.
    urgent: frozenset[str] = identity_sms.KINDS
    urgent_every: float = 0.2

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
        while not stop.is_set():
            try:
                handled = await self._deliver_batch(kinds=self.urgent)
            except Exception:  # the database hiccuped: the next look catches up
                log.exception("urgent outbox lane crashed")
                handled = 0
            if handled == 0:
                await _wait(stop, self.urgent_every)

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
