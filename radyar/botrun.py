"""Running the bot: long polling by default, or a webhook on aiohttp that checks its secret."""

from __future__ import annotations

import hmac
import logging
import secrets
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update

from bot.application import BotApplication, BotConfig, build_application
from bot.context import BotServices
from bot.flood import FloodLimits
from bot.platforms import PLATFORMS
from clinic.files import FileStore
from clinic.models import Platform
from notifier.budget import SendBudget
from notifier.gate import ConnectionGate, ConnectionLimits
from notifier.http_guard import serving
from radyar.sending import send_limits

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator

    from radyar.app import App
    from radyar.settings import Settings

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_CONNECTIONS = ConnectionLimits(max_connections=64, max_per_peer=64, idle_seconds=30.0)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION = web.AppKey("application", BotApplication)


def bot_services(app: App, settings: Settings | None = None) -> BotServices:
    """The services the bot's handlers use, from the wired app (for ``settings``' platform:
    each bot of a two-platform deployment has its own)."""
    settings = settings or app.settings
    return BotServices(
        uow=app.uow,
        clock=app.clock,
        policy=settings.policy,
        department=settings.department,
        files=FileStore(settings.data_dir / "files"),
        platform=Platform(settings.bot.platform),
    )


def bot_application(
    settings: Settings, app: App, budget: SendBudget | None = None
) -> BotApplication:
    """The python-telegram-bot Application for the configured platform."""
    bot = settings.bot
    if not bot.token():
        raise SystemExit(f"radyar: set RADYAR_{bot.platform.upper()}_TOKEN to run the bot")
    flood = FloodLimits(
        updates=bot.flood_updates,
        staff_updates=bot.flood_staff_updates,
        window=float(bot.flood_window_seconds),
        quiet=float(bot.flood_window_seconds),
    )
    config = BotConfig(
        token=bot.token().reveal(),
        base_url=bot.api_url,
        base_file_url=bot.file_url,
        proxy=bot.proxy.reveal() or None,
        concurrency=bot.concurrency,
        flood=flood,
        budget=budget or SendBudget(send_limits(bot)),
    )
    return build_application(config, bot_services(app, settings))


@asynccontextmanager
async def running_bot(
    settings: Settings, app: App, budget: SendBudget | None = None
) -> AsyncIterator[BotApplication]:
    """Start the bot (polling, or webhook when RADYAR_WEBHOOK_URL is set); stop it on exit."""
    application = bot_application(settings, app, budget)
    try:
        await application.initialize()
    except BaseException:
        # python-telegram-bot closes the bot's HTTP clients only once it was initialised: when
        # the first call (getMe) fails they are open, and would be left so.
        for request in getattr(application.bot, "_request", ()):
            await request.shutdown()
        raise
    async with application, AsyncExitStack() as listening:
        # python-telegram-bot calls post_init only from run_polling/run_webhook, not here.
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if settings.bot.webhook_url:
            await listening.enter_async_context(_webhook(settings, app, application))
        else:
            assert application.updater is not None
            await application.bot.delete_webhook()
            # No pause between long polls: an update is fetched the moment it exists.
            await application.updater.start_polling(poll_interval=0.0, timeout=30)
        try:
            yield application
        finally:
            await listening.aclose()
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


@asynccontextmanager
async def _webhook(
    settings: Settings, app: App, application: BotApplication
) -> AsyncIterator[None]:
    """Serve the webhook, behind the same connection gate as the hospital's listeners (no cap
    per address: Telegram opens up to 40 connections from its own), and register it."""
    bot = settings.bot
    # Without a configured secret each run makes its own: the webhook is never left open.
    secret = bot.webhook_secret.reveal() or secrets.token_urlsafe(32)
    in_header = PLATFORMS[Platform(bot.platform)].webhook_secret_header
    web_app = webhook_app(application, secret, in_header=in_header)
    gate = ConnectionGate(WEBHOOK_CONNECTIONS, app.guards["webhook"])
    async with serving(web_app, bot.listen_host, bot.listen_port, gate):
        assert bot.webhook_url is not None
        await application.bot.set_webhook(
            bot.webhook_url.rstrip("/") + webhook_path(secret, in_header=in_header),
            secret_token=secret if in_header else None,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("webhook listening on %s:%s", bot.listen_host, bot.listen_port)
        yield


def webhook_path(secret: str, *, in_header: bool = True) -> str:
    """Where updates are posted: fixed, or ending in the secret when no header carries it."""
    return WEBHOOK_PATH if in_header else f"{WEBHOOK_PATH}/{secret}"


def webhook_app(
    application: BotApplication, secret: str, *, in_header: bool = True
) -> web.Application:
    """An aiohttp app that accepts updates only when they carry the secret.

    Telegram sends the secret in the X-Telegram-Bot-Api-Secret-Token header; for a platform
    that does not (``in_header=False``) it is the last part of the path. Anything else gets
    403 and is not looked at.
    """
    if not secret:
        raise ValueError("a webhook needs a secret")
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APPLICATION] = application

    async def receive(request: web.Request) -> web.Response:
        given = (
            request.headers.get(SECRET_HEADER, "") if in_header else request.match_info["secret"]
        )
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    route = WEBHOOK_PATH if in_header else WEBHOOK_PATH + "/{secret}"
    web_app.router.add_post(route, receive)
    return web_app


async def run_forever(
    settings: Settings, app: App, stop: asyncio.Event, budget: SendBudget | None = None
) -> None:
    """Run the bot until ``stop`` is set."""
    async with running_bot(settings, app, budget):
        await stop.wait()
