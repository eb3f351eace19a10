"""python-telegram-bot persistence in the clinic database (no pickle files)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.context import BotData
from clinic import chat_state
from clinic.uow import UnitOfWork

UserData = dict[str, Any]


class SqlPersistence(BasePersistence[UserData, dict[str, Any], BotData]):
    """Conversation states and per-user drafts, written through the unit of work."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], platform: str, update_interval: float = 1.0
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._uow = uow
        self._platform = platform

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._uow() as uow:
            stored = await chat_state.conversations(uow, self._platform, name)
        return {tuple(json.loads(key)): state for key, state in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        async with self._uow() as uow:
            await chat_state.save_conversation(
                uow, self._platform, name, json.dumps(list(key)), new_state
            )
            await uow.commit()

    async def get_user_data(self) -> dict[int, UserData]:
        async with self._uow() as uow:
            return await chat_state.user_data(uow, self._platform)

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        async with self._uow() as uow:
            await chat_state.save_user_data(uow, self._platform, user_id, data)
            await uow.commit()

    async def drop_user_data(self, user_id: int) -> None:
        await self.update_user_data(user_id, {})

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Nothing to refresh: this process is the only writer of its users' drafts."""

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Chat data is not kept (everything lives in user data or the clinic tables)."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Chat data is not kept."""

    async def get_bot_data(self) -> BotData:
        return BotData()

    async def update_bot_data(self, data: BotData) -> None:
        """Bot data holds live services, never stored."""

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        """Bot data holds live services, never stored."""

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Arbitrary callback data is not used: callback data carries ids only."""

    async def flush(self) -> None:
        """Every update is already written through."""
