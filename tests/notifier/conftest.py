"""The worker against both sandboxes (Bot API, SMS gateways), and no personal data in logs."""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, quote_plus

import aiohttp
import pytest
from sqlalchemy import select
from telegram import Bot

from clinic.models import HealthWorker, Patient, Platform, Staff
from clinic.policy import Department
from clinic.send_ledger import Bucket
from notifier.budget import SendBudget, SendLimits
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.ledger import DbLedger
from notifier.sms import SmsProvider, build_provider
from radyar.cli import quiet_libraries
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox
from tests.conftest import ClinicEnv

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

# The sandbox answers in milliseconds, but on a loaded machine a first request can take longer
# than half a second: a send that timed out is retried, and a test would see it still pending.
SMS_TIMEOUT = 5.0
TOKEN = "654321:NOTIFIER-TEST"
SMS_KEY = "kv-notifier-test-key-01"
SMSIR_KEY = "ir-notifier-test-key-01"


@dataclass
class World:
    """The clinic, the two sandboxes and a worker wired to them."""

    env: ClinicEnv
    chat: BotApiSandbox
    sms: SmsSandbox
    worker: Worker
    http: aiohttp.ClientSession

    async def drain(self, rounds: int = 5) -> None:
        """Run the worker until nothing is due (bounded)."""
        for _ in range(rounds):
            if await self.worker.run_once() == 0:
                return

    def sms_provider(self, name: str) -> SmsProvider:
        """A Kavenegar or SMS.ir provider pointed at the SMS sandbox."""
        key, sender = {"kavenegar": (SMS_KEY, "10004346"), "smsir": (SMSIR_KEY, "30007732000000")}[
            name
        ]
        return build_provider(
            name, self.http, api_key=key, base_url=self.sms.url, sender=sender, timeout=SMS_TIMEOUT
        )


@pytest.fixture
async def world(env: ClinicEnv) -> AsyncIterator[World]:
    """Everything on loopback; chat paced but not slowed (no sandbox limits)."""
    async with (
        BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as chat,
        SmsSandbox(kavenegar_keys=[SMS_KEY], smsir_keys=[SMSIR_KEY]) as sms,
        aiohttp.ClientSession() as session,
    ):
        bot = Bot(TOKEN, base_url=chat.base_url, base_file_url=chat.base_file_url)
        async with bot:
            provider = build_provider(
                "kavenegar",
                session,
                api_key=SMS_KEY,
                base_url=sms.url,
                sender="10004346",
                timeout=SMS_TIMEOUT,
            )
            # The budget is kept in the database, as radyar run keeps it (fast enough not to slow
            # the tests): every delivery takes its token in a unit of work of its own.
            fast = SendLimits(per_second=1000, per_chat=0)
            ledger = DbLedger(env.uow, "telegram:654321", Bucket(1000, 1000))
            channels = Channels(
                chat={Platform.TELEGRAM: ChatChannel("telegram", bot, SendBudget(fast, ledger))},
                sms=SmsChannel(provider),
            )
            worker = Worker(env.uow, channels, Department(), idle_seconds=0.01)
            yield World(env, chat, sms, worker, session)


# --- no personal data in any log line ------------------------------------------------------
#
# Architecture rule 10: never a national code, mobile, name or message text in a log. Every
# test under tests/notifier/ runs with the root logger at DEBUG and a handler capturing every
# record of every logger (ours, the sandboxes', python-telegram-bot, httpx, aiohttp, asyncio,
# aiosqlite, SQLAlchemy …). Third-party loggers keep exactly the levels the product gives them
# in production: ``radyar.cli.quiet_libraries`` is called here, not copied, so the test follows
# the product. At teardown the test's sensitive values are gathered (patients, health workers
# and staff from its database; every text the Bot API and SMS sandboxes delivered) and no
# formatted line (message, exception, stack) may contain one.

T = TypeVar("T")
MIN_LENGTH = 4  # shorter values (a 2-letter name, "علی") would match by chance, so are skipped
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Line:
    """One captured log record, formatted when it was emitted."""

    logger: str
    level: str
    where: str
    text: str


class Capture(logging.Handler):
    """Keeps every record as formatted text (arguments may change after the call)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[Line] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string still shows its parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        where = f"{record.pathname}:{record.lineno}"
        self.lines.append(Line(record.name, record.levelname, where, text))


def mobile_forms(mobile: str | None) -> Iterator[tuple[str, str]]:
    """A 09xxxxxxxxx number as it may appear: itself, 98…, +98…, bare, Persian digits."""
    if not mobile or len(mobile) != 11 or not mobile.startswith("09"):
        if mobile:
            yield "mobile", mobile
        return
    bare = mobile[1:]
    yield "mobile (09 form)", mobile
    yield "mobile (98 form)", "98" + bare
    yield "mobile (+98 form)", "+98" + bare
    yield "mobile (without prefix)", bare
    yield "mobile (Persian digits)", mobile.translate(PERSIAN_DIGITS)


def encoded(kind: str, value: str) -> Iterator[tuple[str, str]]:
    r"""``value`` as logs print it: as is, inside a repr (\u200c for the zero-width
    non-joiner, \n), as ASCII JSON, URL-encoded."""
    yield kind, value
    for how, form in (
        ("repr", repr(value)[1:-1]),
        ("JSON", json.dumps(value)[1:-1]),
        ("URL-encoded", quote(value)),
        ("URL-encoded form", quote_plus(value)),
    ):
        if form != value:
            yield f"{kind} ({how})", form


def name_forms(kind: str, name: str | None) -> Iterator[tuple[str, str]]:
    """A name, and each word of it."""
    if not name:
        return
    yield from encoded(kind, name)
    for word in name.split():
        yield from encoded(f"{kind} (one word)", word)


def text_forms(kind: str, text: str | None) -> Iterator[tuple[str, str]]:
    """A delivered text, and each of its lines."""
    if not text:
        return
    yield from encoded(kind, text)
    for line in text.splitlines():
        yield from encoded(f"{kind} (one line)", line.strip())


def find_leaks(test: str, lines: Iterable[Line], values: Iterable[tuple[str, str]]) -> list[str]:
    """One description per (logger, place, kind) leak; never the value itself."""
    wanted = {(kind, value) for kind, value in values if len(value) >= MIN_LENGTH}
    found: set[str] = set()
    for line in lines:
        for kind, value in wanted:
            if value in line.text:
                found.add(f"{test}: logger {line.logger!r} ({line.level}, {line.where}): {kind}")
    return sorted(found)


async def database_values(env: ClinicEnv) -> list[tuple[str, str]]:
    """Personal data held in the test's database at its end."""
    values: list[tuple[str, str]] = []
    async with env.sessionmaker() as session:
        for patient in await session.scalars(select(Patient)):
            values.append(("patient national code", patient.national_code))
            values.extend(mobile_forms(patient.mobile))
            values.extend(name_forms("patient first name", patient.first_name))
            values.extend(name_forms("patient last name", patient.last_name))
        for worker in await session.scalars(select(HealthWorker)):
            values.extend(mobile_forms(worker.mobile))
            values.extend(name_forms("health worker name", worker.full_name))
        for staff in await session.scalars(select(Staff)):
            values.extend(mobile_forms(staff.mobile))
            values.extend(name_forms("staff name", staff.full_name))
    await env.engine.dispose()  # the env fixture already disposed it; close what we opened
    return values


def delivered_texts(
    chat: Iterable[BotApiSandbox], sms: Iterable[SmsSandbox]
) -> list[tuple[str, str]]:
    """Every text the sandboxes delivered (chat messages with their edits, SMS)."""
    values: list[tuple[str, str]] = []
    for sandbox in chat:
        for bot in sandbox.world.bots.values():
            for conversation in bot.chats.values():
                for message in conversation.bot_messages():
                    values.extend(text_forms("chat message text", message.text))
                    for version in message.history:
                        old = version.get("text", version.get("caption"))
                        values.extend(text_forms("chat message text", str(old or "")))
    for gateways in sms:
        for sent in gateways.messages():
            values.extend(text_forms("SMS text", sent.text))
    return values


def _of_type(objects: Iterable[object], kind: type[T]) -> list[T]:
    return [o for o in objects if isinstance(o, kind)]


@pytest.fixture(autouse=True)
async def no_personal_data_in_logs(request: pytest.FixtureRequest) -> AsyncIterator[Capture]:
    """Capture every log record of the test (setup and teardown included) and check it."""
    capture = Capture()
    root = logging.getLogger()
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = root.level
    root.setLevel(logging.DEBUG)
    quiet_libraries("DEBUG")
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(root_level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
    # Fixtures that ran before this teardown are finished but their values are still here.
    used = list((getattr(request.node, "funcargs", None) or {}).values())
    worlds = _of_type(used, World)
    envs = {id(e): e for e in [*_of_type(used, ClinicEnv), *(w.env for w in worlds)]}
    values: list[tuple[str, str]] = []
    for env in envs.values():
        values.extend(await database_values(env))
    chats = {id(c): c for c in [*_of_type(used, BotApiSandbox), *(w.chat for w in worlds)]}
    smss = {id(s): s for s in [*_of_type(used, SmsSandbox), *(w.sms for w in worlds)]}
    values.extend(delivered_texts(chats.values(), smss.values()))
    leaks = find_leaks(request.node.nodeid, capture.lines, values)
    assert not leaks, "personal data in log lines:\n" + "\n".join(leaks)
