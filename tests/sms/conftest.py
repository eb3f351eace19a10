"""Fixtures for the SMS provider tests: the SMS sandbox on 127.0.0.1:0, a real aiohttp session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from clinic.models import Patient
from notifier.channels import SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.sms import SmsProvider, SmsTemplate, build_provider
from notifier.sms_inbound_web import sms_inbound_routes
from sandbox.sms import SmsSandbox
from tests.notifier.conftest import mobile_forms, name_forms, text_forms
from tests.sms.replies_world import DEPARTMENT, SECRET, Replies

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

KAVENEGAR_KEY = "kv7f3a9c2e5b1d4a8f6e0c"
SMSIR_KEY = "ir4b8d2f6a1c9e3b7d5a0f"
KAVENEGAR_LINE = "10004346"
SMSIR_LINE = "30007732000000"
KEYS = {"kavenegar": KAVENEGAR_KEY, "smsir": SMSIR_KEY}
LINES = {"kavenegar": KAVENEGAR_LINE, "smsir": SMSIR_LINE}

MOBILE = "09121234567"
OTHER = "09351234567"
REFUSED = "09120000001"  # the gateways call it an invalid receptor
PHONE_OFF = "09129999999"  # accepted, never delivered
NUMBERS = (MOBILE, OTHER, REFUSED, PHONE_OFF)

TEXT_FA = "نوبت ام‌آر‌آی شما فردا ساعت ۸:۳۰ است. رادیار"
TEXT_EN = "Your MRI appointment is tomorrow at 08:30. Radyar"
TEMPLATE_TEXT = {
    "kavenegar": "یادآوری: نوبت شما %token ساعت %token2 است. رادیار",
    "smsir": "یادآوری: نوبت شما #DATE# ساعت #TIME# است. رادیار",
}
TEMPLATES = {
    "kavenegar": {"reminder": SmsTemplate("radyar-reminder", ("date", "time"))},
    "smsir": {"reminder": SmsTemplate("100200")},
}
REMINDER = {"date": "۱۴۰۵/۰۹/۰۸", "time": "۰۸:۳۰"}
RENDERED = "یادآوری: نوبت شما ۱۴۰۵/۰۹/۰۸ ساعت ۰۸:۳۰ است. رادیار"

SENSITIVE = (
    *NUMBERS,
    *(n[1:] for n in NUMBERS),
    TEXT_FA,
    TEXT_EN,
    RENDERED,
    KAVENEGAR_KEY,
    SMSIR_KEY,
    "bad-key-0123456789",
)


@dataclass(frozen=True)
class Case:
    """One gateway and the codes it answers with for the same situations."""

    name: str
    invalid_receptor: int
    no_credit: int
    bad_key: int
    no_template: int
    rate_limited: int


CASES = (
    Case("kavenegar", invalid_receptor=411, no_credit=418, bad_key=401, no_template=424,
         rate_limited=429),
    Case("smsir", invalid_receptor=104, no_credit=102, bad_key=10, no_template=113,
         rate_limited=20),
)  # fmt: skip

Factory = Callable[..., SmsProvider]


def leaks(records: list[logging.LogRecord], extra: Iterable[str] = ()) -> list[str]:
    """Every log line (with its traceback) that shows a number, a text or a key (``extra``:
    more values a test had, like its patients' numbers and names)."""
    formatter = logging.Formatter("%(name)s %(message)s")
    secrets = [*SENSITIVE, *extra]
    found = []
    for record in records:
        line = formatter.format(record)
        found += [f"{record.name}: {secret!r}" for secret in secrets if secret in line]
    return found


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.sensitive: list[str] = []  # added by fixtures before this one's teardown

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_personal_data_in_logs() -> Iterator[_Collector]:
    """Every test here: no log record at any level shows a number, a text or an API key."""
    root = logging.getLogger()
    collector = _Collector()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    yield collector
    root.removeHandler(collector)
    root.setLevel(level)
    assert not leaks(collector.records, collector.sensitive)


@pytest.fixture
async def sandbox() -> AsyncIterator[SmsSandbox]:
    """Both gateways with one key each and the reminder template registered."""
    async with SmsSandbox(kavenegar_keys=[KAVENEGAR_KEY], smsir_keys=[SMSIR_KEY]) as server:
        server.add_template("kavenegar", "radyar-reminder", TEMPLATE_TEXT["kavenegar"])
        server.add_template("smsir", 100200, TEMPLATE_TEXT["smsir"])
        server.mark_invalid(REFUSED)
        server.mark_undeliverable(PHONE_OFF)
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def make_provider(sandbox: SmsSandbox, session: aiohttp.ClientSession) -> Factory:
    """A provider on the sandbox with a short timeout (0.5 s); the key can be overridden."""

    def make(name: str, *, api_key: str | None = None, timeout: float = 0.5) -> SmsProvider:
        return build_provider(
            name,
            session,
            api_key=api_key or KEYS.get(name, ""),
            base_url=sandbox.url,
            sender=LINES.get(name, ""),
            templates=TEMPLATES.get(name),
            timeout=timeout,
        )

    return make


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    value: Case = request.param
    return value


@pytest.fixture
def provider(case: Case, make_provider: Factory) -> SmsProvider:
    return make_provider(case.name)


# --- answers by SMS reply: the clinic, the worker, the poller and the callback --------------

MIN_LENGTH = 4  # shorter values ("علی", "۱") would match by chance, so are not checked


@pytest.fixture
async def replies(env: ClinicEnv, no_personal_data_in_logs: _Collector) -> AsyncIterator[Replies]:
    """Everything on loopback, the gateways on our clock; at teardown the test's patients'
    numbers and names, and every SMS text either way, join the log check."""
    async with (
        SmsSandbox(
            kavenegar_keys=[KAVENEGAR_KEY],
            smsir_keys=[SMSIR_KEY],
            wallclock=lambda: env.clock.now().timestamp(),
        ) as server,
        aiohttp.ClientSession() as client,
    ):
        providers = {
            name: build_provider(
                name, client, api_key=KEYS[name], base_url=server.url, sender=LINES[name],
                timeout=5.0,
            )
            for name in ("kavenegar", "smsir")
        }  # fmt: skip
        world = Replies(env, server, client, providers, {}, LINES, "", "kavenegar")
        world.workers = {
            name: Worker(
                world.uow, Channels(sms=SmsChannel(provider)), DEPARTMENT, status_every=None
            )
            for name, provider in providers.items()
        }
        app = web.Application()
        app.add_routes(sms_inbound_routes(world.uow, SECRET))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        world.callback_url = f"http://127.0.0.1:{port}/sms/inbound/kavenegar/{SECRET}"
        try:
            yield world
        finally:
            await runner.cleanup()
            no_personal_data_in_logs.sensitive += await _personal(world)


async def _personal(world: Replies) -> list[str]:
    values: list[tuple[str, str]] = []
    async with world.env.sessionmaker() as session:
        for patient in await session.scalars(select(Patient)):
            values += [*mobile_forms(patient.mobile), ("national code", patient.national_code)]
            values += [*name_forms("name", patient.first_name), *name_forms("", patient.last_name)]
    for sent in world.sms.messages():
        values += text_forms("SMS text", sent.text)
    for text in world.phones:
        values += text_forms("reply text", text)
    return [value for _, value in values if len(value) >= MIN_LENGTH] + [SECRET]
