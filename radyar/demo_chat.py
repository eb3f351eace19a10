"""A scripted patient talking to the real bot over the loopback Bot API sandbox, printed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot

from bot.application import BotConfig, build_application
from bot.conversations import registration as reg
from bot.conversations.request import NO, YES
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.i18n import translator
from clinic.models import Platform
from notifier.channels import ChatChannel
from notifier.delivery import Channels
from notifier.worker import Worker
from radyar.app import App
from radyar.botrun import bot_services
from sandbox.botapi import BotApiSandbox, RateLimits

TOKEN = "100000:RADYAR-DEMO"
USER = 9_100_001
RADIOGRAPHY = MODALITY_NAMES["CR"]
SETTLE = 0.05


class Transcript:
    """Prints what the patient does and what the bot answers (new messages and edits)."""

    def __init__(self, sandbox: BotApiSandbox, out: Callable[[str], None]) -> None:
        self.sandbox = sandbox
        self.out = out
        self.shown: dict[int, str] = {}

    def _new(self) -> list[tuple[int, str]]:
        fresh = []
        for message in self.sandbox.messages_to(USER):
            if not message.from_bot or message.deleted:
                continue
            buttons = " ".join(f"[{b.get('text')}]" for b in message.buttons)
            text = (message.text or "") + (f"\n   {buttons}" if buttons else "")
            if self.shown.get(message.message_id) != text:
                self.shown[message.message_id] = text
                fresh.append((message.message_id, text))
        return fresh

    async def flush(self) -> None:
        """Wait for the bot to go quiet, then print its new or changed messages."""
        quiet = 0
        while quiet < 6:
            await asyncio.sleep(SETTLE)
            fresh = self._new()
            quiet = 0 if fresh else quiet + 1
            for _id, text in fresh:
                self.out(f"🤖 {text}")

    async def act(self, label: str, do: Callable[[], Any]) -> None:
        """Print the patient's action, do it, print the answer."""
        self.out(f"\n👤 {label}")
        do()
        await self.flush()


async def run_demo_chat(app: App, out: Callable[[str], None], lang: str = "fa") -> None:
    """Register a patient, request a CT, book the first free time, deliver the confirmation."""
    _ = translator(lang).gettext
    for noisy in ("sandbox", "telegram.ext"):  # the transcript is the output here
        logging.getLogger(noisy).setLevel(logging.WARNING)
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        services = bot_services(app)
        services.platform = Platform.TELEGRAM
        config = BotConfig(TOKEN, sandbox.base_url, sandbox.base_file_url)
        application = build_application(config, services)
        sandbox.create_user(USER, "زهرا", language_code=lang, phone_number="989151234567")
        t = Transcript(sandbox, out)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                await _script(t, sandbox, _)
            finally:
                await application.updater.stop()
                await application.stop()
        await _deliver(app, sandbox, t)


async def _script(t: Transcript, sandbox: BotApiSandbox, _: Callable[[str], str]) -> None:
    def say(text: str) -> tuple[str, Callable[[], Any]]:
        return text, lambda: sandbox.send_text(USER, text)

    def press(label: str) -> tuple[str, Callable[[], Any]]:
        return label, lambda: sandbox.press_button(USER, text=label)

    for label, do in [
        ("/start", lambda: sandbox.send_command(USER, "start")),
        (_(reg.SHARE), lambda: sandbox.send_contact(USER)),
        say("0650451252"),
        say("زهرا"),
        say("محمدی"),
        say("۱۳۶۸"),
        press(_(reg.FEMALE)),
        say(_(NEW_REQUEST)),
        press(_(RADIOGRAPHY)),
        press("رادیوگرافی قفسه سینه"),
    ]:
        await t.act(label, do)
    while _buttons(sandbox) == [_(YES), _(NO)]:  # the safety questions
        await t.act(*press(_(NO)))
    await t.act(*say("۱۴۰۵۱۲۳۴۵۶۷"))
    for _step in range(3):  # insurer (asked once), the earliest day, its earliest time
        labels = _buttons(sandbox)
        if labels:
            await t.act(*press(labels[0]))
    await t.act(*press(_(booking.CONFIRM)))


def _buttons(sandbox: BotApiSandbox) -> list[str]:
    for message in reversed([m for m in sandbox.messages_to(USER) if m.from_bot]):
        if message.buttons:
            return [str(b.get("text")) for b in message.buttons]
    return []


async def _deliver(app: App, sandbox: BotApiSandbox, t: Transcript) -> None:
    """The notifier's worker sends the queued confirmation to the same chat."""
    bot = Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    async with bot:
        channels = Channels(chat={Platform.TELEGRAM: ChatChannel("telegram", bot)})
        worker = Worker(app.uow, channels, app.settings.department)
        t.out("\n⏱  (the notifier's worker runs)")
        await worker.run_once()
        await t.flush()
