"""Running the outbox worker: chat through the Bot API, SMS through the configured gateway."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
from telegram import Bot

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

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator

    from radyar.app import App
    from radyar.settings import Settings, SmsSettings


def _provider(session: aiohttp.ClientSession, sms: SmsSettings) -> SmsProvider:
    return build_provider(
        sms.provider,
        session,
        api_key=sms.api_key.reveal(),
        base_url=sms.base_url,
        sender=sms.sender,
    )


@asynccontextmanager
async def worker_for(
    settings: Settings, app: App, budget: SendBudget | None = None
) -> AsyncIterator[Worker]:
    """A worker with the chat channel of the configured platform and SMS, closed on exit."""
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
        bot_settings = settings.bot
        if bot_settings.token():
            platform = Platform(bot_settings.platform)
            caps = PLATFORMS[platform]
            proxy = bot_settings.proxy.reveal() if caps.proxy_allowed else ""
            bot = Bot(
                bot_settings.token().reveal(),
                base_url=bot_settings.api_url or caps.base_url,
                base_file_url=bot_settings.file_url or caps.base_file_url,
                request=AiohttpRequest(
                    connection_pool_size=worker_settings.concurrency + 2, proxy=proxy or None
                ),
            )
            await stack.enter_async_context(bot)
            channels.chat[platform] = ChatChannel(
                platform.value, bot, budget or SendBudget(send_limits(bot_settings))
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
    )  # fmt: skip
    async with serving(web_app, settings.http_host, settings.http_port, gate):
        await stop.wait()


async def run_worker(
    settings: Settings, app: App, stop: asyncio.Event, budget: SendBudget | None = None
) -> None:
    """Deliver the outbox until ``stop`` is set (within the token's ``budget``)."""
    async with worker_for(settings, app, budget) as worker:
        await worker.run(stop)
