"""The outbox worker: claim due rows, deliver each in its own unit of work, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from clinic.booking import release_expired_holds
from clinic.policy import Department
from clinic.uow import UnitOfWork
from notifier.delivery import Channels, deliver
from notifier.queue import LEASE, claim_due

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

    async def run_once(self) -> int:
        """Release lapsed holds, then deliver one batch; returns how many rows were handled."""
        async with self.uow() as uow:
            await release_expired_holds(uow)
            await uow.commit()
        async with self.uow() as uow:
            ids = await claim_due(uow, self.batch, self.lease)
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

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; sleep briefly when there is nothing due."""
        while not stop.is_set():
            handled = await self.run_once()
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_seconds)
