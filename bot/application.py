"""Builds the python-telegram-bot Application for Telegram or Bale, with every handler."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot.context import BotContext, BotData, BotServices
from bot.conversations.registration import build_registration
from bot.conversations.request import build_request
from bot.handlers.appointments import appointment_handlers
from bot.handlers.booking import booking_handlers
from bot.handlers.common import on_error, once, unexpected, who
from bot.handlers.info import info_handlers
from bot.handlers.preparation import preparation_handlers
from bot.handlers.results import results_handlers
from bot.persistence import SqlPersistence
from bot.platforms import PLATFORMS
from bot.staff import staff_handlers
from bot.worker import worker_handlers
from bot.worker.link import build_link
from clinic.errors import N_
from clinic.i18n import LANGUAGES, translator

log = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Start, or go back to the main menu")),
    ("help", N_("Department address, phone and hours")),
    ("language", N_("Change the language")),
    ("cancel", N_("Stop what you are doing")),
)
DESCRIPTION = N_(
    "Booking for the hospital's imaging department: send your referral, book a time, get the "
    "preparation instructions and learn when your results are ready."
)

BotApplication = Application[Any, BotContext, dict[str, Any], dict[str, Any], BotData, Any]


@dataclass(frozen=True)
class BotConfig:
    """How to reach the Bot API: token, addresses (any Bot API server) and an optional proxy."""

    token: str
    base_url: str | None = None
    base_file_url: str | None = None
    proxy: str | None = None
    persistence_interval: float = 1.0


def build_application(config: BotConfig, services: BotServices) -> BotApplication:
    """The whole bot: typed context, SQL persistence, handlers in order, commands on start."""
    caps = PLATFORMS[services.platform]
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    proxy = config.proxy if caps.proxy_allowed else None
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url or caps.base_url)
        .base_file_url(config.base_file_url or caps.base_file_url)
        .context_types(context_types)
        .persistence(
            SqlPersistence(services.uow, services.platform.value, config.persistence_interval)
        )
        .request(HTTPXRequest(proxy=proxy, connection_pool_size=16))
        .get_updates_request(HTTPXRequest(proxy=proxy, read_timeout=30))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(_post_init)
    )
    application: BotApplication = builder.build()
    application.bot_data.services = services
    _add_handlers(application)
    return application


def _add_handlers(application: BotApplication) -> None:
    application.add_handler(TypeHandler(Update, once), group=-2)
    application.add_handler(TypeHandler(Update, who), group=-1)
    with warnings.catch_warnings():
        # Our conversations track the chat, not each message, on purpose (a menu-style bot);
        # PTB warns about every CallbackQueryHandler in such a conversation.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        application.add_handler(build_link())  # before registration: it owns the contact then
        application.add_handler(build_registration())
        application.add_handler(build_request())
    application.add_handlers(
        [
            *staff_handlers(),
            *worker_handlers(),
            *booking_handlers(),
            *appointment_handlers(),
            *preparation_handlers(),
            *results_handlers(),
            *info_handlers(),
        ]
    )
    # Last in the same group: it runs only when no handler above took the update.
    application.add_handler(MessageHandler(filters.ALL, unexpected))
    application.add_handler(CallbackQueryHandler(unexpected))
    application.add_error_handler(on_error)


async def _post_init(application: BotApplication) -> None:
    """Set the command list and description in each language (where the platform allows)."""
    services = application.bot_data.services
    assert services is not None
    me = await application.bot.get_me()
    services.bot_username = me.username or ""
    for lang in LANGUAGES:
        _ = translator(lang).gettext
        commands = [BotCommand(name, _(text)) for name, text in COMMANDS]
        try:
            await application.bot.set_my_commands(commands, language_code=lang)
            if PLATFORMS[services.platform].set_description:
                await application.bot.set_my_description(_(DESCRIPTION), language_code=lang)
        except TelegramError as exc:
            log.warning("could not set commands for %s: %s", lang, type(exc).__name__)
