"""Running the outbox worker: chat through the Bot API, SMS through the configured gateway."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.aiohttp_request import AiohttpRequest
from bot.platforms import PLATFORMS
from clinic.models import Platform
from notifier.budget import SendBudget
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels, DeliveryRules
from notifier.dispatch import Worker
from notifier.gate import ConnectionGate
from notifier.his_webhook import WebhookConfig
from notifier.http_guard import guard_middleware, serving
from notifier.sms import FailoverSms, SmsProvider, build_provider
from notifier.web import create_app
from radyar.sending import send_limits

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator

    from radyar.app import App
    from radyar.settings import BotSettings, Settings, SmsSettings


def _provider(session: aiohttp.ClientSession, sms: SmsSettings) -> SmsProvider:
    return build_provider(
        sms.provider,
        session,
        api_key=sms.api_key.reveal(),
        base_url=sms.base_url,
        sender=sms.sender,
    )


Budgets = SendBudget | Mapping[str, SendBudget] | None


def _budget_of(budgets: Budgets, platform: str, bot_settings: BotSettings) -> SendBudget:
    """The platform's send budget: its entry, the one given (a one-platform caller), or a
    budget of this process's own."""
    if isinstance(budgets, SendBudget):
        return budgets
    found = budgets.get(platform) if budgets is not None else None
    return found or SendBudget(send_limits(bot_settings))


async def _open(bot: Bot, platform: str, stack: AsyncExitStack) -> None:
    """Open the bot's HTTP clients, closed with ``stack``. Its getMe may fail while the
    platform is down: the worker starts all the same (its notices go by SMS in time, and by
    chat once the platform is back); a refused token stops it."""
    stack.push_async_callback(bot.shutdown)
    try:
        await bot.initialize()
    except InvalidToken:
        raise
    except TelegramError as exc:
        log.warning("%s is not answering at start (%s): sending when it is back", platform,
                    type(exc).__name__)  # fmt: skip


@asynccontextmanager
async def worker_for(
    settings: Settings, app: App, budgets: Budgets = None
) -> AsyncIterator[Worker]:
    """A worker with a chat channel for each platform that has a token (Telegram and Bale
    each on its own Bot API, proxy and send budget) and SMS, closed on exit."""
    async with AsyncExitStack() as stack:
        worker_settings = settings.worker
        channels = Channels(
            rules=DeliveryRules(
                quiet_from=worker_settings.quiet_from,
                quiet_until=worker_settings.quiet_until,
                give_up_after=timedelta(hours=worker_settings.give_up_hours),
                sms_after_urgent=timedelta(minutes=worker_settings.sms_after_urgent_minutes),
                sms_after=timedelta(minutes=worker_settings.sms_after_minutes),
                sms_after_reminder=timedelta(minutes=worker_settings.sms_after_reminder_minutes),
                reminder_last=timedelta(minutes=worker_settings.reminder_last_minutes),
            )
        )
        for name in settings.bot.platforms():
            bot_settings = settings.bot.for_platform(name)
            platform = Platform(name)
            caps = PLATFORMS[platform]
            proxy = bot_settings.proxy.reveal() if caps.proxy_allowed else ""  # Telegram's only
            bot = Bot(
                bot_settings.token().reveal(),
                base_url=bot_settings.api_url or caps.base_url,
                base_file_url=bot_settings.file_url or caps.base_file_url,
                request=AiohttpRequest(
                    connection_pool_size=worker_settings.concurrency + 2, proxy=proxy or None
                ),
            )
            await _open(bot, name, stack)
            channels.chat[platform] = ChatChannel(
                platform.value, bot, _budget_of(budgets, name, bot_settings)
            )
        if settings.sms is not None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            provider = _provider(session, settings.sms)
            if settings.sms_failover is not None:
                provider = FailoverSms(provider, _provider(session, settings.sms_failover))
            channels.sms = SmsChannel(provider)
        yield Worker(
            app.uow,
            channels,
            settings.department,
            batch=settings.worker.batch,
            concurrency=settings.worker.concurrency,
            lease=timedelta(seconds=settings.worker.lease_seconds),
        )


async def serve_http(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """/healthz, /metrics and the HIS report webhook on RADYAR_HTTP_HOST:RADYAR_HTTP_PORT,
    within the RADYAR_HTTP_* limits."""
    hospital = settings.hospital
    inbound = settings.sms_inbound
    limits = hospital.http_limits
    webhook = WebhookConfig(
        secret=hospital.webhook_secret.reveal().encode(),
        window=timedelta(seconds=hospital.webhook_window_seconds),
        read_seconds=limits.connections.idle_seconds,
    )
    stats = app.guards["http"]
    gate = ConnectionGate(limits.connections, stats)
    guard = guard_middleware(limits, stats, gate)
    web_app = create_app(
        app.uow, webhook, guard=guard, listeners=app.guards,
        fhir_token=settings.outbound.fhir.read_token.reveal().encode(),
        metrics_token=hospital.metrics_token.reveal().encode(),
        sms_secret=inbound.secret.reveal() if inbound.mode == "callback" else "",
        sms_allow=inbound.allow,
    )  # fmt: skip
    async with serving(web_app, settings.http_host, settings.http_port, gate):
        await stop.wait()


async def run_worker(
    settings: Settings, app: App, stop: asyncio.Event, budgets: Budgets = None
) -> None:
    """Deliver the outbox until ``stop`` is set (within each token's budget)."""
    async with worker_for(settings, app, budgets) as worker:
        await worker.run(stop)
