"""Incoming updates: different chats at once, one chat strictly in arrival order, floods shed.

python-telegram-bot hands every update to ``process_update`` as its own task, in the order the
updates arrived (long polling or webhook alike). Each chat has a lane: an update waits for the
one before it in its chat to finish, so a conversation's state and the once-only record see one
update at a time, while other chats go ahead. Flood control runs at arrival, before the lane and
before any database work, so a flooding account's updates never queue in front of anyone.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.flood import FloodGate, Verdict

log = logging.getLogger(__name__)

Notice = Callable[[Update], Awaitable[None]]
# PTB's own cap on updates in flight (arrived, not finished). It is only a backstop: a chat's
# lane holds at most what flood control lets through, so this is never reached in practice.
MAX_IN_FLIGHT = 4096


def lane_of(update: object) -> int | None:
    """The chat (else the user) whose updates must keep their order; None: no order needed."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatLanes(BaseUpdateProcessor):
    """Runs at most ``running`` updates at once, one per chat at a time, in arrival order."""

    def __init__(self, running: int = 16, gate: FloodGate | None = None) -> None:
        super().__init__(MAX_IN_FLIGHT)
        self._running = asyncio.Semaphore(running)
        self._tails: dict[int, asyncio.Future[None]] = {}
        self.gate = gate
        self.on_flood: Notice | None = None  # set once the Application exists

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Shed a flood at once; otherwise wait for this chat's previous update, then run."""
        key = lane_of(update)
        verdict = self._admit(update, coroutine)
        if verdict is not Verdict.SERVE:
            if verdict is Verdict.NOTICE and self.on_flood is not None:
                assert isinstance(update, Update)
                await self.on_flood(update)
            return
        if key is None:
            async with self._running:
                await coroutine
            return
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        started = False
        try:
            if previous is not None:
                # asyncio.wait does not cancel ``previous`` if this task is cancelled.
                await asyncio.wait((previous,))
            async with self._running:
                started = True
                await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting its turn: it never ran
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

    def _admit(self, update: object, coroutine: Awaitable[Any]) -> Verdict:
        user = update.effective_user if isinstance(update, Update) else None
        if self.gate is None or user is None:
            return Verdict.SERVE
        verdict = self.gate.check(user.id)
        if verdict is Verdict.SERVE:
            return verdict
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never started: nothing of the update has run
        if verdict is Verdict.NOTICE:
            log.info("a chat account is flooding; %d updates dropped so far", self.gate.dropped)
        return verdict

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: python-telegram-bot waits for the updates still running."""
