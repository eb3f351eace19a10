"""Staff mode: reception, admin, reporting and broadcaster, by the roles read at each update."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext


def staff_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The staff commands and buttons (registered before the patient fallbacks)."""
    return []
