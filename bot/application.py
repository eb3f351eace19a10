"""Builds the python-telegram-bot Application for Telegram or Bale, with every handler."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.aiohttp_request import AiohttpRequest
from bot.context import BotContext, BotData, BotServices
from bot.conversations.family import build_family
from bot.conversations.registration import build_registration
from bot.conversations.request import build_request
from bot.flood import FloodGate, FloodLimits
from bot.forget import ForgetWatch
from bot.handlers.appointments import appointment_handlers
from bot.handlers.booking import booking_handlers
from bot.handlers.common import (
    ARRIVAL,
    CONVERSATIONS,
    HEALTH_WORKER,
    PATIENT,
    STAFF,
    arrive,
    final,
    flood_notice,
    on_error,
    unexpected,
)
from bot.handlers.family import family_handlers
from bot.handlers.info import info_handlers
from bot.handlers.preparation import preparation_handlers
from bot.handlers.results import results_handlers
from bot.health_worker import worker_handlers
from bot.health_worker.link import build_link
from bot.persistence import SqlPersistence
from bot.platforms import PLATFORMS
from bot.ratelimit import BudgetLimiter, ReplyBudget
from bot.staff import staff_handlers
from bot.updates import ChatLanes
from clinic.i18n import LANGUAGES, N_, translator

if TYPE_CHECKING:
    from telegram.request import BaseRequest

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


class _Application(BotApplication):
    """python-telegram-bot's Application, forgetting while it runs the chat users whose data
    another process deleted (``bot.forget``): however it is started (``radyar run``, the
    demo, the tests), the poll runs exactly from ``start`` to ``stop``."""

    def __init__(self, *, forget_watch: ForgetWatch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.forget_watch = forget_watch

    async def initialize(self) -> None:
        """Note what is already forgotten before the state is loaded, then load it."""
        if not self.forget_watch.feed.begun:
            await self.forget_watch.feed.begin()
        await super().initialize()

    async def start(self) -> None:
        """Start, then poll for whom to forget."""
        await super().start()
        self.forget_watch.start(self)

    async def stop(self) -> None:
        """Stop polling, then stop."""
        await self.forget_watch.stop()
        await super().stop()

    async def shutdown(self) -> None:
        """Shut down; a new initialisation notes afresh what is already forgotten."""
        await super().shutdown()
        self.forget_watch.feed.begun = False


@dataclass(frozen=True)
class BotConfig:
    """How to reach the Bot API: token, addresses (any Bot API server) and an optional proxy."""

    token: str
    base_url: str | None = None
    base_file_url: str | None = None
    proxy: str | None = None
    persistence_interval: float = 1.0
    concurrency: int = 16  # updates handled at once (different chats)
    flood: FloodLimits | None = field(default_factory=FloodLimits)  # None: no flood control
    budget: ReplyBudget | None = None  # the token's send budget (None: nothing counted)


def build_application(
    config: BotConfig, services: BotServices, *, request: BaseRequest | None = None
) -> BotApplication:
    """The whole bot: typed context, SQL persistence, handlers in order, commands on start.

    ``request`` replaces the HTTP client for Bot API calls (the quick handler tests answer
    them offline); by default aiohttp through the configured proxy."""
    caps = PLATFORMS[services.platform]
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    proxy = config.proxy if caps.proxy_allowed else None
    gate = FloodGate(config.flood) if config.flood is not None else None
    lanes = ChatLanes(config.concurrency, gate)
    forget = ForgetWatch(services.uow, services.platform)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url or caps.base_url)
        .base_file_url(config.base_file_url or caps.base_file_url)
        .context_types(context_types)
        .persistence(SqlPersistence(services.uow, services.platform, config.persistence_interval))
        .request(
            request or AiohttpRequest(proxy=proxy, connection_pool_size=config.concurrency + 8)
        )
        .get_updates_request(AiohttpRequest(proxy=proxy, connection_pool_size=1, read_timeout=10))
        .concurrent_updates(lanes)
        .post_init(_post_init)
        .application_class(_Application, {"forget_watch": forget})
    )
    if config.budget is not None:
        builder = builder.rate_limiter(BudgetLimiter(config.budget))
    application: BotApplication = builder.build()
    application.bot_data.services = services
    application.bot_data.flood = gate
    lanes.on_flood = partial(flood_notice, application)
    _add_handlers(application)
    return application


def _add_handlers(application: BotApplication) -> None:
    # One pipeline for every mode: once-only, who is this and the flood limit (ARRIVAL); an
    # open conversation; staff, then health-worker steps, each gated by who may act there (a
    # gate that says no passes the update on); the patient's handlers; what nobody took.
    application.add_handler(TypeHandler(Update, arrive), group=ARRIVAL)
    with warnings.catch_warnings():
        # Our conversations track the chat, not each message, on purpose (a menu-style bot);
        # PTB warns about every CallbackQueryHandler in such a conversation.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        conversations = [build_link(), build_registration(), build_family(), build_request()]
    # The link comes before registration: it owns the contact then. Adding a family member
    # comes before the request, so a menu button midway ends it (it lets the button go on).
    application.add_handlers(conversations, group=CONVERSATIONS)
    application.add_handlers([final(h) for h in staff_handlers()], group=STAFF)
    application.add_handlers([final(h) for h in worker_handlers()], group=HEALTH_WORKER)
    patient: list[BaseHandler[Update, BotContext, Any]] = [
        *booking_handlers(),
        *appointment_handlers(),
        *preparation_handlers(),
        *results_handlers(),
        *family_handlers(),
        *info_handlers(),
        # Last: it runs only when no handler above took the update.
        MessageHandler(filters.ALL, unexpected),
        CallbackQueryHandler(unexpected),
    ]
    application.add_handlers(patient, group=PATIENT)
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
