"""A scripted patient talking to the real bot over the loopback Bot API sandbox, printed."""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram import Bot

from bot.application import BotConfig, build_application
from bot.conversations import registration as reg
from bot.conversations.request import NO, YES
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic import demo as demo_data
from clinic.actors import Actor
from clinic.daylist import check_in
from clinic.i18n import translator
from clinic.models import Platform
from clinic.text import normalize_digits
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.hl7 import make_handler
from notifier.mllp import send_mllp, start_mllp_server
from notifier.sms import build_provider
from radyar.botrun import bot_services
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from radyar.app import App

TOKEN = "100000:RADYAR-DEMO"
FIRST_USER = 9_100_001
FIRST_CODE = 65045125  # the demo patients' national codes: this, then the next ones
RADIOGRAPHY = MODALITY_NAMES["CR"]
SETTLE = 0.05
PHONE = "09151234567"  # the patient's, shared with the contact button
SMS_KEY = "demo-sms-gateway-key"


class Transcript:
    """Prints what the patient does and what the bot answers (new messages and edits)."""

    def __init__(self, sandbox: BotApiSandbox, out: Callable[[str], None], user: int) -> None:
        self.sandbox = sandbox
        self.out = out
        self.user = user
        self.shown: dict[int, str] = {}

    def _new(self) -> list[tuple[int, str]]:
        fresh = []
        for message in self.sandbox.messages_to(self.user):
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


@dataclass(frozen=True)
class Visitor:
    """This run's patient: a Telegram user and a national code no earlier run used."""

    user: int
    national_code: str


def _national_code(n: int) -> str:
    body = f"{FIRST_CODE + n:09d}"
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


async def _fresh_visitor(app: App) -> tuple[Visitor, int]:
    """A new patient for this run, and the first update id the sandbox may use (the bot
    remembers the ids it handled, so a second run must not reuse them)."""
    async with app.uow() as uow:
        held = await demo_data.taken(uow)
    user = next(u for u in range(FIRST_USER, FIRST_USER + 10_000) if u not in held.chat_users)
    codes = map(_national_code, range(10_000))
    code = next(c for c in codes if c not in held.national_codes)
    return Visitor(user, code), max(held.last_update_id + 1, 100_000_001)


async def run_demo_chat(app: App, out: Callable[[str], None], lang: str = "fa") -> None:
    """Register a patient, request an X-ray, book the first free time, deliver the confirmation;
    then the exam day: admission, the RIS's final report over HL7/MLLP, the patient told."""
    with _quiet("sandbox", "telegram.ext"):  # the transcript is the output here
        await _chat(app, out, translator(lang).gettext, lang)


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """These loggers at WARNING while the block runs, as they were afterwards."""
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


async def _chat(app: App, out: Callable[[str], None], _: Callable[[str], str], lang: str) -> None:
    visitor, first_update = await _fresh_visitor(app)
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        for bot in sandbox.world.bots.values():
            bot.next_update_id = first_update
        services = bot_services(app)
        services.platform = Platform.TELEGRAM
        config = BotConfig(TOKEN, sandbox.base_url, sandbox.base_file_url)
        application = build_application(config, services)
        sandbox.create_user(
            visitor.user, "زهرا", language_code=lang, phone_number="98" + PHONE[1:]
        )
        t = Transcript(sandbox, out, visitor.user)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                await _script(app, t, sandbox, _, visitor)
            finally:
                await application.updater.stop()
                await application.stop()
        await _deliver(app, sandbox, t)
        await _report_day(app, sandbox, t, visitor)


async def _script(
    app: App, t: Transcript, sandbox: BotApiSandbox, _: Callable[[str], str], visitor: Visitor
) -> None:
    user = visitor.user

    def say(text: str) -> tuple[str, Callable[[], Any]]:
        return text, lambda: sandbox.send_text(user, text)

    def press(label: str) -> tuple[str, Callable[[], Any]]:
        return label, lambda: sandbox.press_button(user, text=label)

    for label, do in [
        ("/start", lambda: sandbox.send_command(user, "start")),
        (_(reg.SHARE), lambda: sandbox.send_contact(user)),
        say(visitor.national_code),
    ]:
        await t.act(label, do)
    await t.act(*say(await _code_by_sms(app, t)))
    for label, do in [
        say("زهرا"),
        say("محمدی"),
        say("۱۳۶۸"),
        press(_(reg.FEMALE)),
        say(_(NEW_REQUEST)),
        press(_(RADIOGRAPHY)),
        press("رادیوگرافی قفسه سینه"),
    ]:
        await t.act(label, do)
    while _buttons(sandbox, user) == [_(YES), _(NO)]:  # the safety questions
        await t.act(*press(_(NO)))
    await t.act(*say("۱۴۰۵۱۲۳۴۵۶۷"))
    for _step in range(3):  # insurer (asked once), the earliest day, its earliest time
        labels = _buttons(sandbox, user)
        if labels:
            await t.act(*press(labels[0]))
    await t.act(*press(_(booking.CONFIRM)))


async def _code_by_sms(app: App, t: Transcript) -> str:
    """The notifier's worker sends the one-time code to the patient's phone (the SMS gateway
    sandbox); the code as the phone shows it."""
    async with SmsSandbox(kavenegar_keys=[SMS_KEY]) as sms, aiohttp.ClientSession() as http:
        provider = build_provider(
            "kavenegar", http, api_key=SMS_KEY, base_url=sms.url, sender="10004346"
        )
        worker = Worker(app.uow, Channels(sms=SmsChannel(provider)), app.settings.department)
        t.out("\n⏱  (the notifier's worker sends the code by SMS)")
        await worker.run_once()
        text = sms.inbox(PHONE)[-1].text
    t.out(f"📱 {text}")
    return str(re.findall(r"[0-9]{5}", normalize_digits(text))[-1])


def _buttons(sandbox: BotApiSandbox, user: int) -> list[str]:
    for message in reversed([m for m in sandbox.messages_to(user) if m.from_bot]):
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


ORU = (
    "MSH|^~\\&|RIS|HOSPITAL_RAD|RADYAR|HOSPITAL|{now}||ORU^R01^ORU_R01|DEMO{booking}|P|2.5.1\r"
    "PID|1||{national_code}^^^IRN^NNIRN||Mohammadi^Zahra\r"
    "OBR|1|||CXR^Chest X-ray|||{now}|||||||||||{accession}||||{now}||CR|F\r"
    "OBX|1|TX|18782-3^Radiology Study observation^LN||(the radiologist's report text)||||||F\r"
)


async def _report_day(app: App, sandbox: BotApiSandbox, t: Transcript, visitor: Visitor) -> None:
    """Reception admits the patient with the RIS accession number; the RIS sends the final
    report as HL7 v2 over MLLP; the worker tells the patient where to collect it."""
    async with app.uow() as uow:
        booking = await demo_data.latest_booking(uow, visitor.national_code)
        if booking is None:
            return
        accession = f"DEMO-{booking.code}"
        await check_in(uow, Actor.system(), booking.id, accession_number=accession)
        await uow.commit()
    t.out(f"\n🏥 (reception admits the patient: accession number {accession})")
    server = await start_mllp_server(make_handler(app.uow), "127.0.0.1", 0)
    try:
        port = int(server.sockets[0].getsockname()[1])
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000")
        message = ORU.format(
            now=stamp,
            booking=booking.id,
            national_code=visitor.national_code,
            accession=accession,
        )
        ack = await send_mllp("127.0.0.1", port, message.encode())
    finally:
        server.close()
        await server.wait_closed()
    msa = next((s for s in ack.decode().split("\r") if s.startswith("MSA")), "")
    t.out(f"📨 (the RIS sends ORU^R01, report final, over MLLP; Radyar answers {msa})")
    await _deliver(app, sandbox, t)
