"""The quick handler tier: the real Application and handlers, updates handed to
``Application.process_update``, and the Bot API answered in memory by ``OfflineBotApi`` (after
python-telegram-bot's own test suite's ``OfflineRequest``), so a gate or a forged press is
tried in milliseconds, without the sandbox's HTTP round trips."""

from __future__ import annotations

import itertools
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.request import BaseRequest, RequestData

from bot.application import BotApplication, BotConfig, build_application
from bot.context import BotServices
from clinic.files import FileStore
from clinic.i18n import translator
from clinic.models import Platform
from clinic.policy import Department

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

    from telegram._utils.types import ODVInput

    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

    # What fills the department before the bot starts (the ``seed`` fixture, conftest.py).
    Seed = Callable[[UnitOfWork], Awaitable[object]]

TOKEN = "123456:RADYAR-OFFLINE"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Radyar", "username": "radyar_bot"}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]


# The calls that put text in the chat: a new message, or an edit of one already there.
SHOWING = ("sendMessage", "editMessageText")


def shown(calls: list[Call]) -> list[str]:
    """The texts the bot sent or showed in ``calls``, in order (new messages and edits)."""
    return [str(c.params["text"]) for c in calls if c.method in SHOWING and "text" in c.params]


def inline_buttons(calls: list[Call]) -> list[tuple[str, str]]:
    """The inline buttons (label, callback data) of the last call in ``calls`` that carries
    any, row by row; none when no call does."""
    for call in reversed(calls):
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
            return [(b["text"], b["callback_data"]) for row in rows for b in row]
    return []


def answers(calls: list[Call]) -> list[str | None]:
    """The bot's answers to button presses in ``calls`` (the small notice, or None for a
    silent one), in order."""
    return [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"]


@dataclass
class OfflineBotApi(BaseRequest):
    """Answers every Bot API call from memory and records it; nothing leaves the process."""

    calls: list[Call] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        # PTB's BaseRequest calls do_request with these by name; an offline answer needs none.
        method: str,  # noqa: ARG002
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,  # noqa: ARG002
        write_timeout: ODVInput[float] = DEFAULT_NONE,  # noqa: ARG002
        connect_timeout: ODVInput[float] = DEFAULT_NONE,  # noqa: ARG002
        pool_timeout: ODVInput[float] = DEFAULT_NONE,  # noqa: ARG002
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        self.calls.append(Call(name, params))
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id") or next(self._ids)),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": str(params.get("text", "")),
            }
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup  # a message carries inline buttons only
            return message
        return True

    def texts(self) -> list[str]:
        """What the bot said or showed, in order (new messages and edits)."""
        return shown(self.calls)

    def answers(self) -> list[str | None]:
        """The bot's answers to button presses (the small notice, or None for a silent one)."""
        return answers(self.calls)


class OfflineChat:
    """One Telegram user in a private chat with the bot, sending updates straight in."""

    _update_ids = itertools.count(1)

    def __init__(self, bot: OfflineBot, user_id: int) -> None:
        self.bot = bot
        self.user_id = user_id
        self._ = translator("fa").gettext

    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": "کاربر", "language_code": "fa"}

    async def _process(self, payload: dict[str, Any]) -> list[Call]:
        before = len(self.bot.api.calls)
        application = self.bot.application
        update = Update.de_json({"update_id": next(self._update_ids), **payload}, application.bot)
        await application.process_update(update)
        return self.bot.api.calls[before:]

    async def say(self, text: str) -> list[Call]:
        """Send a text message (a command when it starts with /)."""
        message: dict[str, Any] = {
            "message_id": next(self.bot.api._ids),
            "date": 0,
            "chat": {"id": self.user_id, "type": "private"},
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return await self._process({"message": message})

    async def press(self, data: str, message_id: int = 1) -> list[Call]:
        """Press a button with ``data`` on message ``message_id`` (offered or not)."""
        query = {
            "id": str(next(self._update_ids)),
            "from": self._user(),
            "chat_instance": str(self.user_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": self.user_id, "type": "private"},
                "from": BOT_USER,
                "text": "…",
            },
        }
        return await self._process({"callback_query": query})


@dataclass
class OfflineBot:
    """The whole bot (handlers, persistence, flood gate) with the Bot API offline."""

    application: BotApplication
    api: OfflineBotApi

    def chat(self, user_id: int) -> OfflineChat:
        return OfflineChat(self, user_id)


@asynccontextmanager
async def offline_bot(env: ClinicEnv, files: Path) -> AsyncIterator[OfflineBot]:
    """Build the bot as ``radyar run`` does, but answer its Bot API calls offline."""
    api = OfflineBotApi()
    services = BotServices(
        uow=env.uow,
        clock=env.clock,
        policy=env.policy,
        department=Department(),
        files=FileStore(files),
        platform=Platform.TELEGRAM,
    )
    application = build_application(
        BotConfig(token=TOKEN, persistence_interval=60), services, request=api
    )
    await application.initialize()
    try:
        yield OfflineBot(application, api)
    finally:
        await application.shutdown()
