"""The demo's world, as ``radyar run`` composes it: the bot, the outbox worker, the HIS webhook
and the HL7 listener, the Orthanc poller and housekeeping, on a seeded SQLite department,
over the Bot API and SMS gateway sandboxes on loopback, with a clock the visitor moves on."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import socket
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

import aiohttp

from clinic import demo as demo_data
from clinic import migrate
from clinic.booking import release_expired_holds
from clinic.clock import RunningClock
from clinic.jalali import TEHRAN, to_tehran
from radyar.app import App, build_app, prepare_data_dir
from radyar.botrun import run_forever
from radyar.demo_web import orthanc as demo_orthanc
from radyar.demo_web.hospital import Hospital
from radyar.demo_web.people import create_users, link_staff
from radyar.hospitalrun import poll_orthanc, serve_mllp
from radyar.housekeeping import day_end, housekeeping
from radyar.outbox_run import run_worker, serve_http
from radyar.sending import send_budgets
from radyar.settings import Settings
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from radyar.demo_web.orthanc import Orthanc

log = logging.getLogger(__name__)
TOKEN = "100000:RADYAR-WEB-DEMO"
SMS_KEY = "kv-radyar-web-demo"
SMS_LINE = "10004346"
HOUSEKEEPING_EVERY = 30.0  # seconds: no-shows are marked soon after the clock passes midnight
STEPS = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
MORNING = 7  # "to tomorrow morning": 07:00 Tehran, when reminders and the desk start
DAYTIME = (time(7, 0), time(20, 0))  # SMS wait out the night (22:00-07:00): the demo does not
OPENING = time(8, 0)


def first_instant(now: datetime) -> datetime:
    """Where the demo's clock starts: now in the daytime (Tehran), else the next 08:00, so a
    visitor at night still gets the one-time code by SMS and finds the desk open."""
    local = to_tehran(now)
    if DAYTIME[0] <= local.time() < DAYTIME[1]:
        return now
    day = local.date() if local.time() < DAYTIME[0] else local.date() + timedelta(days=1)
    return datetime.combine(day, OPENING, tzinfo=TEHRAN)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (for the hospital's listeners)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def demo_settings(
    folder: Path, chat: BotApiSandbox, sms: SmsSandbox, orthanc: Orthanc | None
) -> Settings:
    """The settings ``radyar run`` would read, pointing at the sandboxes and at this demo's
    own folder; nothing of the visitor's environment (never their database)."""
    env = {
        "RADYAR_DATA_DIR": str(folder / "data"),
        "RADYAR_LANG": "fa",
        "RADYAR_TELEGRAM_TOKEN": TOKEN,
        "RADYAR_BOT_API_URL": chat.base_url,
        "RADYAR_BOT_FILE_URL": chat.base_file_url,
        # A visitor clicks through a whole booking in seconds (the sandbox has no flood limits):
        # the flood gate lets them, and the worker's notices need not wait out a minute of
        # replies to that chat (Telegram's one a second after the burst).
        "RADYAR_FLOOD_UPDATES": "300",
        "RADYAR_SEND_CHAT_BURST": "20",
        "RADYAR_SMS_PROVIDER": "kavenegar",
        "RADYAR_SMS_API_KEY": SMS_KEY,
        "RADYAR_SMS_BASE_URL": sms.url,
        "RADYAR_SMS_SENDER": SMS_LINE,
        "RADYAR_HTTP_HOST": "127.0.0.1",
        "RADYAR_HTTP_PORT": str(free_port()),
        "RADYAR_HIS_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "RADYAR_HIS_WEBHOOK_ALLOW": "127.0.0.1",
        "RADYAR_MLLP_HOST": "127.0.0.1",
        "RADYAR_MLLP_PORT": str(free_port()),
        "RADYAR_MLLP_ALLOW": "127.0.0.1",
    }
    if orthanc is not None:
        env |= {
            "RADYAR_ORTHANC_URL": orthanc.url,
            "RADYAR_ORTHANC_USER": orthanc.user,
            "RADYAR_ORTHANC_PASSWORD": orthanc.password,
            "RADYAR_ORTHANC_POLL_SECONDS": "2",
        }
    return Settings.from_env(env)


@dataclass
class Demo:
    """The running demo: the wired app and its clock, the sandboxes, the hospital."""

    app: App
    clock: RunningClock
    chat: BotApiSandbox
    sms: SmsSandbox
    hospital: Hospital
    http: aiohttp.ClientSession  # to the sandboxes' control APIs and the Bot API

    @property
    def settings(self) -> Settings:
        """What the product runs with."""
        return self.app.settings

    async def advance(self, step: str) -> datetime:
        """Move the clock on by ``step`` (``STEPS``, or "morning": tomorrow at 07:00 Tehran)
        and do at once what the worker and housekeeping would do within their rounds: lapsed
        holds go, past days' unadmitted bookings become no-shows (the worker delivers what
        became due within a second). Raises KeyError for an unknown step."""
        if step == "morning":
            local = to_tehran(self.clock.now())
            target = datetime.combine(
                local.date() + timedelta(days=1), datetime.min.time(), tzinfo=TEHRAN
            ) + timedelta(hours=MORNING)
            self.clock.advance(seconds=(target - local).total_seconds())
        else:
            self.clock.advance(seconds=STEPS[step].total_seconds())
        async with self.app.uow() as uow:
            await release_expired_holds(uow)
            await uow.commit()
        await day_end(self.app)
        return self.clock.now()


@asynccontextmanager
async def running_demo(
    folder: Path, *, start: datetime | None = None, with_orthanc: bool | None = None
) -> AsyncIterator[Demo]:
    """Everything started, in ``folder`` (a fresh one: the department is seeded into it);
    stopped on exit. ``start`` is the clock's first instant (default: ``first_instant``);
    ``with_orthanc`` None starts Orthanc when it is installed."""
    clock = RunningClock(start or first_instant(datetime.now(UTC)))

    def wallclock() -> float:  # message dates in the sandboxes follow the demo's clock
        return clock.now().timestamp()

    use_orthanc = demo_orthanc.installed() if with_orthanc is None else with_orthanc
    async with AsyncExitStack() as stack:
        chat = await stack.enter_async_context(
            BotApiSandbox([TOKEN], limits=RateLimits.disabled(), wallclock=wallclock)
        )
        sms = await stack.enter_async_context(
            SmsSandbox(kavenegar_keys=[SMS_KEY], kavenegar_lines=[SMS_LINE], wallclock=wallclock,
                       auto_advance=2.0)
        )  # fmt: skip
        pacs = None
        if use_orthanc:
            (folder / "orthanc").mkdir(parents=True, exist_ok=True)
            try:
                pacs = await stack.enter_async_context(
                    demo_orthanc.running_orthanc(folder / "orthanc")
                )
            except RuntimeError:  # the demo goes on; only "images ready" is not offered
                if with_orthanc:
                    raise
                log.warning("Orthanc did not start: the demo runs without it")
        settings = demo_settings(folder, chat, sms, pacs)
        prepare_data_dir(settings)
        await migrate.upgrade(settings.database_url)
        app = await stack.enter_async_context(build_app(settings, clock))
        async with app.uow() as uow:
            await demo_data.seed_demo(uow)
            await uow.commit()
        create_users(chat)
        await link_staff(app)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        demo = Demo(app, clock, chat, sms, Hospital(app, http, pacs), http)
        await stack.enter_async_context(_running_services(demo))
        yield demo


@asynccontextmanager
async def _running_services(demo: Demo) -> AsyncIterator[None]:
    """The parts of ``radyar run``, side by side until the demo stops; any failing stops all."""
    settings, app = demo.settings, demo.app
    stop = asyncio.Event()
    async with send_budgets(settings, app) as budgets, asyncio.TaskGroup() as group:
        own = dataclasses.replace(settings, bot=settings.bot.for_platform("telegram"))
        group.create_task(run_forever(own, app, stop, budgets.get("telegram")))
        group.create_task(run_worker(settings, app, stop, budgets))
        group.create_task(serve_http(settings, app, stop))
        group.create_task(serve_mllp(settings, app, stop))
        group.create_task(poll_orthanc(settings, app, stop))
        group.create_task(housekeeping(app, stop, HOUSEKEEPING_EVERY))
        try:
            await _listening(settings)
            yield
        finally:
            stop.set()


async def _listening(settings: Settings, seconds: float = 10.0) -> None:
    """Until the HIS webhook's and the MLLP listener's ports answer (they start in tasks)."""
    ports = (settings.http_port, settings.hospital.mllp_port)
    async with asyncio.timeout(seconds):
        for port in ports:
            while True:
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                await writer.wait_closed()
                break
