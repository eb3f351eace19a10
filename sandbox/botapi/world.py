"""The simulated Telegram world: users, chats, messages, callback queries and per-bot state."""

from __future__ import annotations

import asyncio
import copy
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .files import FileStore

if TYPE_CHECKING:
    from .platforms import PlatformCaps
    from .ratelimit import Clock, RateLimiter

JSON = dict[str, Any]

# Updates Telegram does not send unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Signal:
    """A broadcast wake-up: every waiter registered before ``fire`` is released."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake every current waiter."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        """Wait for the next ``fire``; False when ``seconds`` passed first (None: forever)."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


@dataclass
class SimUser:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone_number: str | None = None

    def to_json(self) -> JSON:
        """The User object Telegram sends (absent optional fields omitted)."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class StoredMessage:
    """A message in a chat as Telegram holds it now, with its earlier versions."""

    data: JSON
    from_bot: bool
    source: str | None = None
    markup: JSON | None = None
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)

    @property
    def message_id(self) -> int:
        """The message id within its chat."""
        return int(self.data["message_id"])

    @property
    def chat_id(self) -> int:
        """The chat the message is in."""
        return int(self.data["chat"]["id"])

    @property
    def text(self) -> str | None:
        """The text (or caption) after entity parsing."""
        value = self.data.get("text", self.data.get("caption"))
        return None if value is None else str(value)

    @property
    def entities(self) -> list[JSON]:
        """Entities of the text or caption."""
        entities = self.data.get("entities") or self.data.get("caption_entities") or []
        return list(entities)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """Rows of inline buttons, empty when the message has none."""
        if self.markup and "inline_keyboard" in self.markup:
            return [list(row) for row in self.markup["inline_keyboard"]]
        return []

    @property
    def buttons(self) -> list[JSON]:
        """All inline buttons in reading order."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def edited(self) -> bool:
        """Whether the bot edited this message."""
        return bool(self.history)

    def to_json(self) -> JSON:
        """A JSON view for the control API."""
        return {
            "message": self.data,
            "from_bot": self.from_bot,
            "source": self.source,
            "reply_markup": self.markup,
            "deleted": self.deleted,
            "edits": len(self.history),
        }


@dataclass
class Chat:
    """A chat as one bot sees it; private chats belong to one user."""

    id: int
    type: str
    user: SimUser | None = None
    title: str | None = None
    started: bool = True
    blocked: bool = False
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: JSON | None = None
    read_cursor: int = 0
    changed: Signal = field(default_factory=Signal)

    def to_json(self) -> JSON:
        """The Chat object embedded in messages."""
        if self.user is not None:
            data = self.user.to_json()
            data.pop("is_bot")
            data.pop("language_code", None)
            return {**data, "type": "private"}
        return {"id": self.id, "type": self.type, "title": self.title or f"Group {self.id}"}

    def new_message_id(self) -> int:
        """Allocate the next message id; user and bot messages share one sequence."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def bot_messages(self) -> list[StoredMessage]:
        """Every message the bot sent here, oldest first, deleted ones included."""
        return [message for message in self.messages.values() if message.from_bot]


@dataclass
class CallbackRecord:
    """A callback query created by a button press, and the bot's answer."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: JSON | None = None


@dataclass
class Webhook:
    """A webhook registration."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None


@dataclass
class BotState:
    """Everything one bot token owns."""

    token: str
    user: JSON
    limiter: RateLimiter
    chats: dict[int, Chat] = field(default_factory=dict)
    pending: list[JSON] = field(default_factory=list)
    next_update_id: int = 100_000_001
    updates_changed: Signal = field(default_factory=Signal)
    poll_generation: int = 0
    allowed_updates: list[str] | None = None
    webhook: Webhook | None = None
    webhook_task: asyncio.Task[None] | None = None
    last_error: tuple[int, str] | None = None
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    descriptions: dict[tuple[str, str], str] = field(default_factory=dict)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def id(self) -> int:
        """The bot's user id."""
        return int(self.user["id"])

    @property
    def sender(self) -> JSON:
        """The bot as the ``from`` of its messages (getMe's capability flags are not repeated)."""
        return {key: self.user[key] for key in ("id", "is_bot", "first_name", "username")}

    def chat_instance(self, chat_id: int) -> str:
        """A stable opaque chat_instance for callback queries from this chat."""
        return str(zlib.crc32(f"{self.id}:{chat_id}".encode()) * 7919 + 10**15)

    def wants(self, update_type: str) -> bool:
        """Whether an update of this type is delivered, per the stored allowed_updates."""
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        if not allowed:
            return update_type not in OPT_IN_UPDATES
        return update_type in allowed

    def enqueue(self, update_type: str, payload: JSON) -> JSON | None:
        """Queue an update unless allowed_updates filters it out; wake pollers and webhooks."""
        if not self.wants(update_type):
            return None
        # A copy: later edits to the stored message must not rewrite an undelivered update.
        update = {"update_id": self.next_update_id, update_type: copy.deepcopy(payload)}
        self.next_update_id += 1
        self.pending.append(update)
        self.updates_changed.fire()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates before ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]


@dataclass
class World:
    """All state of one sandbox: users are global, chats and updates belong to a bot."""

    caps: PlatformCaps
    clock: Clock
    wallclock: Clock
    users: dict[int, SimUser] = field(default_factory=dict)
    silent_users: set[int] = field(default_factory=set)
    bots: dict[str, BotState] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    callback_ttl: float = 900.0
    webhook_retries: int = 3
    webhook_retry_delay: float = 0.05
    files: FileStore = field(default_factory=FileStore)
    closing: bool = False

    def now(self) -> int:
        """Unix time for message dates."""
        return int(self.wallclock())

    def chat(self, bot: BotState, chat_id: int) -> Chat | None:
        """The bot's chat with this id; private chats and known groups are opened on demand.

        A private chat with a user created as "never started the bot" starts unstarted.
        """
        chat = bot.chats.get(chat_id)
        if chat is not None:
            return chat
        user = self.users.get(chat_id)
        if user is not None:
            started = chat_id not in self.silent_users
            chat = Chat(id=chat_id, type="private", user=user, started=started)
        elif chat_id in self.groups:
            chat = Chat(id=chat_id, type="group", title=self.groups[chat_id])
        else:
            return None
        bot.chats[chat_id] = chat
        return chat
