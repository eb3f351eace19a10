"""Drive the real bot over HTTP through the Bot API sandbox, as a patient would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.application import BotApplication, BotConfig, build_application
from bot.context import BotServices
from clinic.files import FileStore
from clinic.i18n import translator
from clinic.models import Platform
from clinic.policy import Department
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.botapi.world import StoredMessage
from tests.conftest import ClinicEnv

TOKEN = "123456:RADYAR-TEST-TOKEN"
SETTLE_TIMEOUT = 10.0


class Harness:
    """A running bot (python-telegram-bot Application, long polling) against the sandbox."""

    def __init__(self, sandbox: BotApiSandbox, env: ClinicEnv, files: Path) -> None:
        self.sandbox = sandbox
        self.env = env
        self.files = files
        self.application: BotApplication | None = None
        self.expected = 0
        self.processed = 0
        self._progress = asyncio.Condition()

    def services(self, platform: Platform = Platform.TELEGRAM) -> BotServices:
        return BotServices(
            uow=self.env.uow,
            clock=self.env.clock,
            policy=self.env.policy,
            department=Department(),
            files=FileStore(self.files),
            platform=platform,
        )

    async def start(self) -> None:
        """Build and start the bot, as ``radyar run`` does (long polling)."""
        config = BotConfig(
            token=TOKEN,
            base_url=self.sandbox.base_url,
            base_file_url=self.sandbox.base_file_url,
            persistence_interval=0.2,
        )
        application = build_application(config, self.services())
        original = application.process_update

        async def counted(update: object) -> None:
            try:
                await original(update)
            finally:
                async with self._progress:
                    self.processed += 1
                    self._progress.notify_all()

        application.process_update = counted  # type: ignore[method-assign]
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        self.application = application

    async def stop(self) -> None:
        """Stop as on SIGTERM: the updater, then the application (which flushes persistence)."""
        application = self.application
        if application is None:
            return
        assert application.updater is not None
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        self.application = None

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database."""
        await self.stop()
        await self.start()

    async def settle(self) -> None:
        """Wait until the bot has processed every update the users caused."""
        async with self._progress:
            await asyncio.wait_for(
                self._progress.wait_for(lambda: self.processed >= self.expected), SETTLE_TIMEOUT
            )

    def user(self, user_id: int, *, lang: str = "fa", phone: str | None = None) -> Chat:
        """A Telegram user with a private chat with the bot."""
        self.sandbox.create_user(
            user_id, "بیمار", language_code=lang, phone_number=phone or f"98912{user_id:07d}"
        )
        return Chat(self, user_id, lang)


@dataclass
class Chat:
    """One user's private chat: every action counts, and waits for the bot's answer."""

    harness: Harness
    user_id: int
    lang: str
    actions: int = 0
    seen: int = field(default=0)

    def _(self, msgid: str) -> str:
        return translator(self.lang).gettext(msgid)

    async def _act(self, do: Callable[[], Any], *, updates: int = 1) -> list[StoredMessage]:
        before = len(self.bot_messages())
        self.harness.expected += updates
        do()
        self.actions += 1
        await self.harness.settle()
        return self.bot_messages()[before:]

    def bot_messages(self) -> list[StoredMessage]:
        """Everything the bot sent to this user, oldest first (edits applied)."""
        return [m for m in self.harness.sandbox.messages_to(self.user_id) if m.from_bot]

    def last(self) -> StoredMessage:
        """The bot's newest message to this user."""
        messages = self.bot_messages()
        assert messages, "the bot has not written to this user"
        return messages[-1]

    def last_text(self) -> str:
        """The text of the bot's newest message."""
        return self.last().text or ""

    def texts(self) -> list[str]:
        """Every text the bot sent, oldest first."""
        return [m.text or "" for m in self.bot_messages()]

    async def say(self, text: str) -> list[StoredMessage]:
        """Type a message."""
        return await self._act(lambda: self.harness.sandbox.send_text(self.user_id, text))

    async def command(self, command: str, payload: str | None = None) -> list[StoredMessage]:
        """Send /command (with a deep-link payload)."""
        sandbox = self.harness.sandbox
        return await self._act(lambda: sandbox.send_command(self.user_id, command, payload))

    async def tap(self, msgid: str) -> list[StoredMessage]:
        """Tap a main-menu (reply keyboard) button by its msgid."""
        return await self.say(self._(msgid))

    async def share_contact(
        self, phone: str | None = None, *, own: bool = True
    ) -> list[StoredMessage]:
        """Share a contact: one's own (the button) or someone else's."""
        sandbox = self.harness.sandbox
        other = None if own else self.user_id + 1
        return await self._act(
            lambda: sandbox.send_contact(self.user_id, phone, contact_user_id=other)
        )

    async def press(
        self, label: str | None = None, *, data: str | None = None, message_id: int | None = None
    ) -> list[StoredMessage]:
        """Press an inline button by its visible label (or its callback data)."""
        sandbox = self.harness.sandbox
        return await self._act(
            lambda: sandbox.press_button(
                self.user_id, text=label, data=data, message_id=message_id
            )
        )

    async def press_msgid(self, msgid: str) -> list[StoredMessage]:
        """Press an inline button whose label is the translation of ``msgid``."""
        return await self.press(self._(msgid))

    async def forge(self, data: str, message_id: int | None = None) -> list[StoredMessage]:
        """Send callback data the bot never offered (a forged or stale button)."""
        sandbox = self.harness.sandbox
        target = message_id or self.last().message_id
        return await self._act(lambda: sandbox.forge_callback(self.user_id, target, data))

    async def photo(self, data: bytes, mime_type: str = "image/jpeg") -> list[StoredMessage]:
        """Send a photo."""
        sandbox = self.harness.sandbox
        return await self._act(lambda: sandbox.send_photo(self.user_id, data, mime_type=mime_type))

    async def document(self, data: bytes, file_name: str, mime_type: str) -> list[StoredMessage]:
        """Send a file."""
        sandbox = self.harness.sandbox
        return await self._act(
            lambda: sandbox.send_document(
                self.user_id, data, file_name=file_name, mime_type=mime_type
            )
        )

    def buttons(self) -> list[str]:
        """Labels of the newest inline keyboard the bot sent."""
        for message in reversed(self.bot_messages()):
            if message.buttons and not message.deleted:
                return [str(b.get("text")) for b in message.buttons]
        return []

    def button_data(self) -> list[str]:
        """Callback data of the newest inline keyboard."""
        for message in reversed(self.bot_messages()):
            if message.buttons and not message.deleted:
                return [str(b.get("callback_data")) for b in message.buttons]
        return []


@asynccontextmanager
async def running(
    env: ClinicEnv, files: Path, *, limits: RateLimits | None = None
) -> AsyncIterator[Harness]:
    """A sandbox and a started bot; both stopped afterwards."""
    async with BotApiSandbox([TOKEN], limits=limits or RateLimits.disabled()) as sandbox:
        harness = Harness(sandbox, env, files)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
