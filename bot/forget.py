"""Forgetting, in a running bot, the chat users whose state another process deleted.

python-telegram-bot holds each user's draft (``user_data``) and conversation states in memory
and writes them back to the database (``bot.persistence``). When retention or a patient's
erasure deletes those rows elsewhere (the CLI, the housekeeping of ``radyar run``), it also
notes the user in ``chat_forget`` (``clinic.chat_forget``). Every running bot polls that
table every POLL_SECONDS with one indexed query, outside the handling of updates, and drops
what it holds for each user noted on its platform: the draft, every conversation state
(the person's next message starts afresh), and the persistence's copies, so nothing of it is
written back.

Rows are numbered, but on PostgreSQL a number is taken before its transaction commits, so a
row can become visible after a higher one. Numbers are therefore only put behind once the
bot has seen a higher one for SETTLE_SECONDS (transactions end long before that: the row is
written just before its commit); until then they are asked for again and skipped when
known. The rows already there when the bot loads its state are known from the start: what
they deleted was not loaded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import ConversationHandler

from bot.persistence import SqlPersistence
from clinic import chat_forget

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator

    from telegram.ext import Application, BaseHandler
    from telegram.ext._utils.types import ConversationKey

    from clinic.models import Platform
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
SETTLE_SECONDS = 120.0


class ForgetFeed:
    """The users noted for one platform since the last look, each row once."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        platform: Platform,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._platform = platform
        self._ticks = ticks
        self._floor = 0  # every row numbered up to here is behind us
        self._seen: dict[int, float] = {}  # rows above the floor already taken, and when
        self.begun = False

    async def begin(self) -> None:
        """Take the rows there now as known (before the bot loads its state from the
        database: what they deleted is not loaded)."""
        async with self._uow().reading() as uow:
            before = uow.clock.now() - timedelta(seconds=SETTLE_SECONDS)
            floor = await chat_forget.settled(uow, self._platform, before)
            recent = await chat_forget.since(uow, self._platform, floor)
        now = self._ticks()
        self._floor, self._seen = floor, {n: now for n, _ in recent}
        self.begun = True

    async def new(self) -> list[int]:
        """The users of the rows not seen before, in the order they were noted."""
        async with self._uow().reading() as uow:
            rows = await chat_forget.since(uow, self._platform, self._floor)
        now = self._ticks()
        users: dict[int, None] = {}
        for n, user in rows:
            if n not in self._seen:
                self._seen[n] = now
                users[user] = None
        settled = [n for n, at in self._seen.items() if now - at >= SETTLE_SECONDS]
        if settled:
            self._floor = max(settled)
            self._seen = {n: at for n, at in self._seen.items() if n > self._floor}
        return list(users)


class ForgetWatch:
    """Polls the feed while the bot runs, and forgets the users it names."""

    def __init__(self, uow: Callable[[], UnitOfWork], platform: Platform) -> None:
        self.feed = ForgetFeed(uow, platform)
        self.every = POLL_SECONDS
        self._task: asyncio.Task[None] | None = None

    def start(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Start polling (the bot has started)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(application), name="forget-poll")

    async def stop(self) -> None:
        """Stop polling and wait until it has (the bot is stopping)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves

    async def _poll(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                users = await self.feed.new()
            except Exception as exc:  # the database is away: the next poll asks again
                log.warning("could not read whom to forget: %s", type(exc).__name__)
                continue
            if not users:
                continue
            try:
                forget(application, users)
            except Exception:  # a bug, not the weather: said loudly, and the poll goes on
                log.exception("could not forget %d chat users", len(users))
            else:
                log.info("forgot %d chat users whose data was deleted", len(users))


def forget(application: Application[Any, Any, Any, Any, Any, Any], users: Collection[int]) -> None:
    """Drop what the bot holds in memory for ``users``: their drafts, their conversation
    states (in every conversation, nested ones too), and the persistence's copies, so the
    next message starts afresh and nothing is written back."""
    wanted = set(users)
    for user in wanted:
        application.drop_user_data(user)
    dropped: list[tuple[str, ConversationKey]] = []
    for handler in conversations(application):
        # python-telegram-bot keeps a conversation's states in this dict (by key tuple) and
        # offers no public way to end another chat's conversation.
        states = handler._conversations
        for key in [k for k in states if _user_of(handler, k) in wanted]:
            del states[key]  # a persistent conversation's deletion reaches the persistence
            if handler.persistent and handler.name:
                dropped.append((handler.name, key))
    if isinstance(application.persistence, SqlPersistence):
        application.persistence.forget(wanted, dropped)


def conversations(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> Iterator[ConversationHandler[Any]]:
    """Every conversation handler of the application, nested ones too, once each."""
    seen: set[int] = set()
    stack: list[BaseHandler[Any, Any, Any]] = [
        h for group in application.handlers.values() for h in group
    ]
    while stack:
        handler = stack.pop()
        if not isinstance(handler, ConversationHandler) or id(handler) in seen:
            continue
        seen.add(id(handler))
        yield handler
        stack.extend(handler.entry_points)
        stack.extend(handler.fallbacks)
        for steps in handler.states.values():
            stack.extend(steps)


def _user_of(handler: ConversationHandler[Any], key: ConversationKey) -> object:
    """The user id in a conversation's key: (chat, user), (user), or (chat) where a private
    chat's id is its user's; a message id may follow."""
    if handler.per_user:
        return key[1 if handler.per_chat else 0]
    return key[0] if handler.per_chat else None


__all__ = [
    "POLL_SECONDS",
    "SETTLE_SECONDS",
    "ForgetFeed",
    "ForgetWatch",
    "conversations",
    "forget",
]
