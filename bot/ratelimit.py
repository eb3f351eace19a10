"""The bot's requests through the send budget its token shares with the notifier.

Only what the platform counts is counted: messages sent or edited in a chat (see
``notifier.budget`` for the sources). Replies go at once; the budget only holds them while the
platform has asked us to wait ("retry after"), which is honoured for that chat and makes the
notifier's sends wait too. Everything else (answering a button, reading, polling) passes
straight through.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]
COUNTED = frozenset(
    name.lower()
    for name in [
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "sendInvoice",
        "sendPaidMedia",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
    ]
)


class ReplyBudget(Protocol):
    """What the bot needs of the send budget (``notifier.budget.SendBudget`` is one)."""

    async def reply(self, chat_id: int) -> None:
        """Count a reply; wait only while the platform asked us to."""

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """The platform answered "retry after"."""


class BudgetLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter hook, drawing on a shared ``ReplyBudget``."""

    def __init__(self, budget: ReplyBudget, max_retries: int = 2) -> None:
        self.budget = budget
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up: the budget is owned by whoever built it."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Count a message sent or edited in a chat, send it, and honour "retry after"."""
        chat_id = _chat_id(data) if endpoint.lower() in COUNTED else None
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            if chat_id is not None:
                await self.budget.reply(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.budget.pause(wait, chat_id)
                if attempt >= retries:
                    raise
                attempt += 1
                log.info("the platform asked to wait %.1f s before %s", wait, endpoint)
                await asyncio.sleep(wait)


def _chat_id(data: dict[str, Any]) -> int | None:
    try:
        return int(data["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None  # a message by inline id or a @channel: nothing of ours to count


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
