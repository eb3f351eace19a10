"""The Python control API: registering bots and users, reading what the bot sent, waiting."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from .buttons import ButtonActions
from .ratelimit import RateLimiter, RateLimits
from .webhook import stop_delivery
from .world import JSON, BotState, Chat, SimUser, StoredMessage, World

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


class SandboxControl(ButtonActions):
    """What tests, the demo and benchmarks use besides the Bot API itself."""

    def __init__(self, world: World, limits: RateLimits) -> None:
        super().__init__(world)
        self._limits = limits
        self._user_counter = 0

    # --- setup -----------------------------------------------------------------------------

    def add_bot(
        self, token: str, *, username: str | None = None, first_name: str = "Radyar"
    ) -> JSON:
        """Register a bot token; returns its getMe User. The id is the token's numeric prefix."""
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else 7_000_000_000 + len(self.world.bots)
        user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username or f"sandbox_{bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        limiter = RateLimiter(self._limits, self.world.clock)
        self.world.bots[token] = BotState(token=token, user=user, limiter=limiter)
        return user

    def create_user(
        self,
        user_id: int | None = None,
        first_name: str = "کاربر",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fa",
        phone_number: str | None = None,
        started: bool = True,
    ) -> SimUser:
        """Create a user; ``started=False`` means the bot gets 403 until the user writes."""
        if user_id is None:
            self._user_counter += 1
            user_id = 500_000_000 + self._user_counter
        if user_id in self.world.users or user_id in self.world.groups:
            raise ValueError(f"user {user_id} already exists")
        user = SimUser(user_id, first_name, last_name, username, language_code, phone_number)
        self.world.users[user_id] = user
        if not started:
            self.world.silent_users.add(user_id)
        return user

    def create_group(self, group_id: int, title: str = "Group") -> int:
        """Create a group chat (negative id) in which users can write to the bot."""
        if group_id >= 0:
            raise ValueError("group ids are negative")
        self.world.groups[group_id] = title
        return group_id

    @property
    def limits(self) -> RateLimits:
        """The flood-control limits in force."""
        return self._limits

    def set_limits(self, limits: RateLimits) -> None:
        """Change the flood-control limits of every bot and forget the send history."""
        self._limits = limits
        for bot in self.world.bots.values():
            bot.limiter.reset(limits)

    # --- inspection ------------------------------------------------------------------------

    def _existing_chat(self, chat_id: int, token: str | None) -> Chat | None:
        return self.world.chat(self._bot(token), chat_id)

    def messages_to(
        self, chat_id: int, *, token: str | None = None, include_deleted: bool = True
    ) -> list[StoredMessage]:
        """Every message the bot sent to a user (or group), oldest first, edits applied."""
        chat = self._existing_chat(chat_id, token)
        messages = chat.bot_messages() if chat else []
        return [m for m in messages if include_deleted or not m.deleted]

    def last_message(self, chat_id: int, *, token: str | None = None) -> StoredMessage | None:
        """The newest message the bot sent there that is not deleted."""
        messages = self.messages_to(chat_id, token=token, include_deleted=False)
        return messages[-1] if messages else None

    def current_keyboard(self, chat_id: int, *, token: str | None = None) -> JSON | None:
        """The reply keyboard the user currently sees, if any."""
        chat = self._existing_chat(chat_id, token)
        return chat.reply_keyboard if chat else None

    def callback_answer(self, query_id: str, *, token: str | None = None) -> JSON | None:
        """The bot's answerCallbackQuery for a press, or None while unanswered."""
        record = self._bot(token).callbacks.get(query_id)
        if record is None:
            raise LookupError(f"unknown callback query {query_id}")
        return record.answer

    def pending_updates(self, *, token: str | None = None) -> list[JSON]:
        """Updates not yet confirmed by getUpdates offset (or delivered to the webhook)."""
        return list(self._bot(token).pending)

    def request_counts(self, *, token: str | None = None) -> dict[str, int]:
        """Requests received per Bot API method (Telegram's spelling), errors included."""
        return dict(self._bot(token).calls)

    # --- waiting ---------------------------------------------------------------------------

    async def wait_until(
        self,
        chat_id: int,
        check: Callable[[Chat], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the failure names what was awaited
        token: str | None = None,
    ) -> T:
        """Re-run ``check`` on every change to the chat until it returns non-None."""
        chat = self._existing_chat(chat_id, token)
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (result := check(chat)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await chat.changed.wait(remaining):
                sent = [(m.message_id, m.text) for m in chat.bot_messages()]
                raise TimeoutError(f"chat {chat_id}: condition not met in {timeout}s; {sent}")
        return result

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the failure lists what the bot sent
        token: str | None = None,
    ) -> StoredMessage:
        """The bot's next message to the chat not yet returned by this method (a read cursor)."""

        def unread(chat: Chat) -> StoredMessage | None:
            messages = chat.bot_messages()
            if chat.read_cursor < len(messages):
                chat.read_cursor += 1
                return messages[chat.read_cursor - 1]
            return None

        return await self.wait_until(chat_id, unread, timeout=timeout, token=token)

    def mark_read(self, chat_id: int, *, token: str | None = None) -> None:
        """Move the read cursor past everything sent so far."""
        chat = self._existing_chat(chat_id, token)
        if chat is not None:
            chat.read_cursor = len(chat.bot_messages())

    async def wait_for_answer(
        self,
        query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the failure names the query
        token: str | None = None,
    ) -> JSON:
        """The bot's answerCallbackQuery for a press, waiting for it."""
        record = self._bot(token).callbacks[query_id]
        return await self.wait_until(
            record.chat_id, lambda _chat: record.answer, timeout=timeout, token=token
        )

    # --- reset -----------------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget users, chats, files, updates, webhooks and counts; bots stay registered."""
        for token, bot in list(self.world.bots.items()):
            await stop_delivery(bot)
            bot.updates_changed.fire()
            limiter = RateLimiter(self._limits, self.world.clock)
            fresh = BotState(token=token, user=bot.user, limiter=limiter)
            # update_ids stay monotonic: a running poller's offset must not swallow new ones.
            fresh.next_update_id = bot.next_update_id
            self.world.bots[token] = fresh
        self.world.users.clear()
        self.world.silent_users.clear()
        self.world.groups.clear()
        self.world.files.clear()
        self._user_counter = 0
        self._callback_counter = 0
