"""Health-house worker (بهورز) mode: acting for patients who have no smartphone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext


def worker_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The worker commands and buttons (registered before the patient fallbacks)."""
    return []
