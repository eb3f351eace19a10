"""Drive the real bot over HTTP through the Bot API sandbox, as a patient would."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update

from bot.application import BotApplication, BotConfig, build_application
from bot.context import BotServices
from bot.handlers.common import SORRY
from clinic.files import FileStore
from clinic.i18n import LANGUAGES, translator
from clinic.models import Platform
from clinic.policy import Department
from notifier.budget import SendBudget
from sandbox.botapi import BotApiSandbox, RateLimits

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    import pytest

    from bot.flood import FloodLimits
    from sandbox.botapi.world import StoredMessage
    from tests.conftest import ClinicEnv

TOKEN = "123456:RADYAR-TEST-TOKEN"
SETTLE_TIMEOUT = 10.0


class Harness:
    """A running bot (python-telegram-bot Application, long polling) against the sandbox."""

    def __init__(
        self,
        sandbox: BotApiSandbox,
        env: ClinicEnv,
        files: Path,
        platform: Platform = Platform.TELEGRAM,
        flood: FloodLimits | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.flood = flood
        self.budget = SendBudget()  # the production limits: replies never wait for them
        self.env = env
        self.files = files
        self.platform = platform
        self.application: BotApplication | None = None
        self.expected = 0
        self.processed = 0
        # Per user too: with updates of different chats handled at once, one user's answer
        # must not be awaited by counting another user's updates.
        self.expected_by: Counter[int] = Counter()
        self.processed_by: Counter[int] = Counter()
        self.updates: list[Update] = []  # every update handed to the bot, in order
        self._progress = asyncio.Condition()

    def services(self, platform: Platform | None = None) -> BotServices:
        return BotServices(
            uow=self.env.uow,
            clock=self.env.clock,
            policy=self.env.policy,
            department=Department(),
            files=FileStore(self.files),
            platform=platform or self.platform,
        )

    async def start(self) -> None:
        """Build and start the bot, as ``radyar run`` does (long polling)."""
        config = BotConfig(
            token=TOKEN,
            base_url=self.sandbox.base_url,
            base_file_url=self.sandbox.base_file_url,
            persistence_interval=0.2,
            flood=self.flood,
            budget=self.budget,
        )
        application = build_application(config, self.services())
        original = application.process_update

        async def counted(update: object) -> None:
            if isinstance(update, Update):
                self.updates.append(update)
            try:
                await original(update)
            finally:
                async with self._progress:
                    self.processed += 1
                    if isinstance(update, Update) and update.effective_user is not None:
                        self.processed_by[update.effective_user.id] += 1
                    self._progress.notify_all()

        application.process_update = counted  # type: ignore[method-assign]
        await application.initialize()
        if application.post_init is not None:  # commands, descriptions: as radyar run does
            await application.post_init(application)
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

    async def settle(self, user_id: int | None = None) -> None:
        """Wait until the bot has processed every update the users caused (given a user, every
        one of theirs: other chats may still be busy)."""

        def done() -> bool:
            if user_id is not None:
                return self.processed_by[user_id] >= self.expected_by[user_id]
            return self.processed >= self.expected

        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(done), SETTLE_TIMEOUT)

    def fire(self, do: Callable[[], Any], *, updates: int = 1, user_id: int | None = None) -> None:
        """Cause updates (of ``user_id``, when given) without waiting for the bot; ``settle``
        after."""
        self.expected += updates
        if user_id is not None:
            self.expected_by[user_id] += updates
        do()

    async def redeliver(self, update: Update) -> None:
        """Hand the bot an update it already processed, as a re-delivery after a crash would."""
        assert self.application is not None
        again = Update.de_json(update.to_dict(), self.application.bot)
        self.expected += 1
        await self.application.process_update(again)
        await self.settle()

    def bot_messages(self) -> list[StoredMessage]:
        """Everything the bot sent to anyone (every user and group), edits applied."""
        bot = next(iter(self.sandbox.world.bots.values()))
        return [m for chat in bot.chats.values() for m in chat.bot_messages()]

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
        self.harness.expected_by[self.user_id] += updates
        do()
        self.actions += 1
        await self.harness.settle(self.user_id)
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

    async def sticker(self) -> list[StoredMessage]:
        """Send a sticker."""
        return await self._act(lambda: self.harness.sandbox.send_sticker(self.user_id))

    async def voice(self) -> list[StoredMessage]:
        """Send a voice note."""
        return await self._act(lambda: self.harness.sandbox.send_voice(self.user_id))

    async def location(
        self, latitude: float = 37.47, longitude: float = 57.33
    ) -> list[StoredMessage]:
        """Send a location pin."""
        sandbox = self.harness.sandbox
        return await self._act(lambda: sandbox.send_location(self.user_id, latitude, longitude))

    async def forward(self, text: str, *, from_user: int | None = None) -> list[StoredMessage]:
        """Forward someone else's text (a known user, or one who hides their account)."""
        sandbox = self.harness.sandbox
        hidden = None if from_user is not None else "Someone"
        return await self._act(
            lambda: sandbox.send_text(
                self.user_id, text, forward_from=from_user, forward_sender_name=hidden
            )
        )

    async def forward_contact(self, phone: str, contact_user_id: int) -> list[StoredMessage]:
        """Forward a contact card (it carries the contact's user id, not the sender's)."""
        sandbox = self.harness.sandbox
        content = {
            "contact": {"phone_number": phone, "first_name": "X", "user_id": contact_user_id},
            "forward_origin": {"type": "hidden_user", "sender_user_name": "X", "date": 1},
        }
        # The control API has no forwarded contact; the sandbox's own sender queues one.
        return await self._act(lambda: sandbox._send(self.user_id, content, None))

    async def edit(self, message_id: int, text: str) -> list[StoredMessage]:
        """Edit one of the user's own messages."""
        sandbox = self.harness.sandbox
        return await self._act(lambda: sandbox.edit_text(self.user_id, message_id, text))

    def own_message_ids(self) -> list[int]:
        """Ids of the messages this user sent, oldest first."""
        bot = next(iter(self.harness.sandbox.world.bots.values()))
        messages = bot.chats[self.user_id].messages.values()
        return [m.message_id for m in messages if not m.from_bot]

    async def in_group(self, group_id: int, text: str) -> list[StoredMessage]:
        """Write in a group the bot is in; returns what the bot sent to the group."""
        sandbox = self.harness.sandbox
        before = len(sandbox.messages_to(group_id))
        self.harness.expected += 1
        sandbox.send_text(self.user_id, text, group_id=group_id)
        self.actions += 1
        await self.harness.settle()
        return sandbox.messages_to(group_id)[before:]

    def fire_press(
        self, label: str | None = None, *, data: str | None = None, message_id: int | None = None
    ) -> str:
        """Press a button without waiting for the bot; returns the callback query id."""
        sandbox = self.harness.sandbox
        ids: list[str] = []
        self.harness.fire(
            lambda: ids.append(
                sandbox.press_button(self.user_id, text=label, data=data, message_id=message_id)
            ),
            user_id=self.user_id,
        )
        return ids[0]

    def fire_forge(self, data: str, message_id: int) -> str:
        """Send callback data on a message without waiting for the bot."""
        sandbox = self.harness.sandbox
        ids: list[str] = []
        self.harness.fire(
            lambda: ids.append(sandbox.forge_callback(self.user_id, message_id, data)),
            user_id=self.user_id,
        )
        return ids[0]

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


def assert_calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing failed: no ERROR logged, and the error handler's apology was never sent."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]
    sorry = {translator(lang).gettext(SORRY) for lang in LANGUAGES}
    assert not [m.text for m in harness.bot_messages() if m.text in sorry]


@asynccontextmanager
async def running(
    env: ClinicEnv,
    files: Path,
    *,
    limits: RateLimits | None = None,
    platform: Platform = Platform.TELEGRAM,
    flood: FloodLimits | None = None,
) -> AsyncIterator[Harness]:
    """A sandbox (of the platform's flavour) and a started bot; both stopped afterwards.

    Flood control is off unless ``flood`` is given: tests tap faster than any person.
    """
    async with BotApiSandbox(
        [TOKEN], limits=limits or RateLimits.disabled(), platform=platform.value
    ) as sandbox:
        harness = Harness(sandbox, env, files, platform, flood)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
