"""python-telegram-bot persistence in the clinic database (no pickle files).

python-telegram-bot hands over every touched user's draft and every touched conversation state
each ``update_interval``, whether it changed or not. What did not change since it was last
stored is not written; what did is written in one transaction for the whole round (one upsert
per table), not one transaction per user.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.context import BotData
from clinic import chat_state

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable

    from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

    from clinic.models import Platform
    from clinic.uow import UnitOfWork

UserData = dict[str, Any]
ConvKey = tuple[str, str]  # conversation name, JSON of python-telegram-bot's key tuple


def _same(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class SqlPersistence(BasePersistence[UserData, dict[str, Any], BotData]):
    """Conversation states and per-user drafts, written through the unit of work."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], platform: Platform, update_interval: float = 1.0
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._uow = uow
        self._platform = platform
        self._stored: dict[object, str] = {}  # what the database holds, as JSON
        self._conversations: dict[ConvKey, Any] = {}
        self._drafts: dict[int, UserData | None] = {}
        self._round: asyncio.Task[None] | None = None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of the conversation ``name``, by chat key."""
        async with self._uow() as uow:
            stored = await chat_state.conversations(uow, self._platform, name)
        for key, state in stored.items():
            self._stored[(name, key)] = _same(state)
        return {tuple(json.loads(key)): state for key, state in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store a conversation's new state with this round's write, unless it is unchanged."""
        conv = (name, json.dumps(list(key)))
        # Unchanged since it was stored, and no other value waits to be written.
        if conv not in self._conversations and self._stored.get(conv, "null") == _same(new_state):
            return
        self._conversations[conv] = new_state
        await self._write_round()

    async def get_user_data(self) -> dict[int, UserData]:
        """The stored drafts of this platform's chat users."""
        async with self._uow() as uow:
            drafts = await chat_state.user_data(uow, self._platform)
        for user_id, data in drafts.items():
            self._stored[user_id] = _same(data)
        return drafts

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        """Store a user's draft with this round's write, unless it is unchanged."""
        if user_id not in self._drafts and self._stored.get(user_id, _same({})) == _same(data):
            return
        self._drafts[user_id] = data
        await self._write_round()

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's draft (an empty draft is no row)."""
        await self.update_user_data(user_id, {})

    def forget(
        self, users: Collection[int], conversations: Iterable[tuple[str, ConversationKey]]
    ) -> None:
        """Another process deleted these users' drafts and these conversation states
        (``bot.forget``, which drops them from the application): what this persistence
        thought the database held of them, and any of their changes still waiting to be
        written (a round that failed), go too. A round writing at this moment is undone by
        the deletions python-telegram-bot hands over next."""
        for user in users:
            self._stored.pop(user, None)
            self._drafts.pop(user, None)
        for name, key in conversations:
            conv = (name, json.dumps(list(key)))
            self._stored.pop(conv, None)
            self._conversations.pop(conv, None)

    async def _write_round(self) -> None:
        """Join the write of this round: python-telegram-bot calls every update_* at once."""
        if self._round is None or self._round.done():
            self._round = asyncio.ensure_future(self._write())
        await asyncio.shield(self._round)

    async def _write(self) -> None:
        await asyncio.sleep(0)  # let the rest of the round queue its changes first
        conversations, drafts = self._conversations, self._drafts
        self._conversations, self._drafts = {}, {}
        try:
            async with self._uow() as uow:
                await chat_state.save(uow, self._platform, conversations, drafts)
                await uow.commit()
        except BaseException:
            # Not written: keep them for the next round (newer changes win).
            self._conversations = {**conversations, **self._conversations}
            self._drafts = {**drafts, **self._drafts}
            raise
        for key, value in [*conversations.items(), *drafts.items()]:
            if value:  # a forgotten row needs no entry: missing means empty
                self._stored[key] = _same(value)
            else:
                self._stored.pop(key, None)

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Nothing to refresh: this process is the only writer of its users' drafts."""

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        """None: chat data is not kept."""
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Chat data is not kept (everything lives in user data or the clinic tables)."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Chat data is not kept."""

    async def get_bot_data(self) -> BotData:
        """A fresh BotData: it holds live services, never stored."""
        return BotData()

    async def update_bot_data(self, data: BotData) -> None:
        """Bot data holds live services, never stored."""

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        """Bot data holds live services, never stored."""

    async def get_callback_data(self) -> CDCData | None:
        """None: callback data carries ids only, nothing to keep."""
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Arbitrary callback data is not used: callback data carries ids only."""

    async def flush(self) -> None:
        """Write anything a failed round left behind (python-telegram-bot calls this on stop)."""
        if self._conversations or self._drafts:
            await self._write()
