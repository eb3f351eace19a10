"""The configured bot token's send budget, shared by the bot's replies and the outbox workers.

Its overall bucket is kept in the database, so every process sending for the token (``radyar
run``, any ``radyar worker`` beside it) draws on the one budget; each process keeps the per-chat
pace of its own sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from clinic.send_ledger import Bucket
from notifier.budget import SendBudget, SendLimits
from notifier.ledger import DbLedger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from radyar.app import App
    from radyar.settings import BotSettings, Settings

log = logging.getLogger(__name__)


def bot_key(bot: BotSettings) -> str:
    """``platform:bot id``: the bot id is the token's public part before the colon."""
    return f"{bot.platform}:{bot.token().reveal().split(':', 1)[0]}"


def send_limits(bot: BotSettings) -> SendLimits:
    """The platform's limits as configured."""
    return SendLimits(per_second=bot.send_per_second, chat_burst=bot.send_chat_burst)


@asynccontextmanager
async def send_budget(settings: Settings, app: App) -> AsyncIterator[SendBudget | None]:
    """The token's budget (None without a token), its replies written to the database in the
    background until the block ends."""
    bot = settings.bot
    if not bot.token():
        yield None
        return
    limits = send_limits(bot)
    ledger = DbLedger(app.uow, bot_key(bot), Bucket(limits.per_second, limits.per_second))
    stop = asyncio.Event()
    flushing = asyncio.create_task(ledger.run(stop), name="send budget")
    try:
        yield SendBudget(limits, ledger)
    finally:
        stop.set()
        await flushing
        with contextlib.suppress(Exception):  # shutting down: the budget refills by itself
            await ledger.flush()


@asynccontextmanager
async def send_budgets(
    settings: Settings, app: App, platforms: Iterable[str] | None = None
) -> AsyncIterator[dict[str, SendBudget]]:
    """Each platform's own budget (every platform with a token, or ``platforms``): a bot and
    the worker sending on one token share one; Telegram's and Bale's are apart."""
    chosen = settings.bot.platforms() if platforms is None else tuple(platforms)
    async with AsyncExitStack() as stack:
        budgets: dict[str, SendBudget] = {}
        for platform in chosen:
            own = dataclasses.replace(settings, bot=settings.bot.for_platform(platform))
            budget = await stack.enter_async_context(send_budget(own, app))
            if budget is not None:
                budgets[platform] = budget
        yield budgets
