"""Updates arriving together share one transaction for their once-only records and identities.

Every update begins with a write (the once-only record) and a read (who the sender is). Under
load, updates of many chats arrive at once (one long poll brings up to a hundred), and one
transaction each meant as many round trips, commits and, on SQLite, turns for its single writer.
Here the first arrival starts a round for everyone queued behind it: each round is one
transaction with one statement for the records and one for the identities, committed before
any of its updates is handled, so the once-only guarantee is as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic import chat_state
from clinic.accounts import ChatIdentity, chat_identities

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.models import Platform
    from clinic.uow import UnitOfWork


@dataclass
class _Arrival:
    update_id: int
    user_id: int | None  # whose identity is wanted (None: nobody's)
    answer: asyncio.Future[tuple[bool, ChatIdentity | None]]


@dataclass
class Arrivals:
    """The rounds of one bot."""

    _queue: list[_Arrival] = field(default_factory=list)
    _round: asyncio.Task[None] | None = None

    async def arrive(
        self,
        uow: Callable[[], UnitOfWork],
        platform: Platform,
        update_id: int,
        user_id: int | None,
        prune: Callable[[], bool],
    ) -> tuple[bool, ChatIdentity | None]:
        """Whether the update is new, and its sender's identity when ``user_id`` is given."""
        answer: asyncio.Future[tuple[bool, ChatIdentity | None]]
        answer = asyncio.get_running_loop().create_future()
        self._queue.append(_Arrival(update_id, user_id, answer))
        if self._round is None or self._round.done():
            self._round = asyncio.ensure_future(self._rounds(uow, platform, prune))
        return await answer

    async def _rounds(
        self, uow: Callable[[], UnitOfWork], platform: Platform, prune: Callable[[], bool]
    ) -> None:
        batch: list[_Arrival] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    fresh, who = await _record(uow, platform, batch, prune())
                except Exception as exc:  # each update of the round fails as it would alone
                    for arrival in batch:
                        if not arrival.answer.done():
                            arrival.answer.set_exception(exc)
                    continue
                seen: set[int] = set()
                for arrival in batch:
                    new = arrival.update_id in fresh and arrival.update_id not in seen
                    seen.add(arrival.update_id)
                    identity = who.get(arrival.user_id) if arrival.user_id is not None else None
                    if not arrival.answer.done():
                        arrival.answer.set_result((new, identity))
                batch = []
        finally:  # cancelled (shutting down): nobody is left waiting
            for arrival in batch + self._queue:
                if not arrival.answer.done():
                    arrival.answer.cancel()


async def _record(
    uow: Callable[[], UnitOfWork], platform: Platform, batch: list[_Arrival], prune: bool
) -> tuple[set[int], dict[int, ChatIdentity]]:
    async with uow() as work:
        fresh = await chat_state.first_times(work, platform, [a.update_id for a in batch])
        if prune:
            await chat_state.prune_processed(work)
        users = [a.user_id for a in batch if a.user_id is not None]
        who = await chat_identities(work, platform, users) if users else {}
        await work.commit()
    return fresh, who
