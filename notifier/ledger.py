"""The overall send budget kept in the database, shared by every process sending for one bot.

Taking a token is a short transaction of its own. Replies are charged in batches every
``flush_every`` seconds by ``run`` (never on the reply's path), and so are pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from clinic import send_ledger

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.send_ledger import Bucket
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)


class DbLedger:
    """``notifier.budget.Ledger`` over the ``send_buckets`` table."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        bot: str,
        bucket: Bucket,
        clock: Callable[[], float] = time.time,
        flush_every: float = 0.25,
    ) -> None:
        self._uow, self.bot, self.bucket, self._clock = uow, bot, bucket, clock
        self.flush_every = flush_every
        self._spent = 0
        self._pause = 0.0

    def note(self, count: int) -> None:
        """Count ``count`` sends already made, for the next flush."""
        self._spent += count

    def pause(self, until: float) -> None:
        """Take nothing before ``until``; written with the next flush."""
        self._pause = max(self._pause, until)

    async def take(self, keep: float) -> float:
        """Flush, then take a token leaving ``keep`` from the table's bucket: 0.0 when
        taken, else seconds to wait."""
        await self.flush()  # our own replies and pauses first, so we yield to them
        async with self._uow() as uow:
            wait = await send_ledger.take(uow, self.bot, self.bucket, keep=keep, now=self._clock())
            await uow.commit()
        return wait

    async def flush(self) -> None:
        """Write the replies charged and the pause asked for since the last flush."""
        spent, until = self._spent, self._pause
        if not spent and not until:
            return
        self._spent, self._pause = 0, 0.0
        try:
            async with self._uow() as uow:
                now = self._clock()
                if spent:
                    await send_ledger.spend(uow, self.bot, self.bucket, spent, now=now)
                if until:
                    await send_ledger.pause(uow, self.bot, self.bucket, until=until, now=now)
                await uow.commit()
        except BaseException:
            self._spent += spent
            self._pause = max(self._pause, until)
            raise

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``flush_every`` seconds until ``stop``; a database hiccup is retried."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.flush_every)
            try:
                await self.flush()
            except Exception as exc:  # the next round writes it; replies never wait on this
                log.warning("send budget not written: %s", type(exc).__name__)
