"""Delivery channels (Telegram/Bale chat, SMS) with every failure mapped to one of four kinds."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from notifier.budget import Priority, SendBudget
from notifier.sms.base import SmsPermanentError, SmsProvider, SmsReceipt, SmsTransientError

if TYPE_CHECKING:
    from collections.abc import Sequence


class DeliveryError(Exception):
    """A send did not go through; the subclass says what to do next."""


class RateLimited(DeliveryError):
    """The platform asked us to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The recipient cannot be reached on this channel (blocked the bot, no chat): fall back."""


class PermanentFailure(DeliveryError):
    """Sending this message again will not help."""


class TransientFailure(DeliveryError):
    """Try again later. ``definite``: the message certainly did not arrive (refused, a
    gateway error); a time-out after it was sent may have delivered it after all."""

    def __init__(self, message: str, *, definite: bool = True) -> None:
        super().__init__(message)
        self.definite = definite


def seconds(value: float | timedelta) -> float:
    """python-telegram-bot gives retry_after as int or timedelta."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatChannel:
    """Telegram or Bale through python-telegram-bot's Bot, within the token's send budget."""

    def __init__(self, name: str, bot: Bot, budget: SendBudget | None = None) -> None:
        self.name = name
        self.bot = bot
        self.budget = budget or SendBudget()

    async def send(
        self,
        chat_id: int,
        text: str,
        buttons: Sequence[tuple[str, str]] = (),
        priority: Priority = Priority.NOTICE,
    ) -> str:
        """Send one message when the budget allows; return its message id. Raises a
        DeliveryError subclass."""
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
            )
        await self.budget.send(chat_id, priority)
        try:
            message = await self.bot.send_message(chat_id, text[:4096], reply_markup=markup)
        except RetryAfter as exc:
            wait = seconds(exc.retry_after)
            self.budget.pause(wait, chat_id)
            raise RateLimited(wait) from exc
        except Forbidden as exc:
            raise Unreachable("blocked or not started") from exc
        except BadRequest as exc:  # before NetworkError, which it subclasses
            if "chat not found" in exc.message.lower():
                raise Unreachable("chat not found") from exc
            raise PermanentFailure(exc.message) from exc
        except TimedOut as exc:  # before NetworkError, which it subclasses
            raise TransientFailure("TimedOut", definite=False) from exc
        except NetworkError as exc:  # refused, reset, 5xx from the Bot API or a proxy
            raise TransientFailure(type(exc).__name__) from exc
        except TelegramError as exc:
            raise TransientFailure(type(exc).__name__) from exc
        return str(message.message_id)

    async def send_file(
        self, chat_id: int, name: str, data: bytes, mime_type: str, caption: str = ""
    ) -> None:
        """Send a document (an appointment's ``.ics``) within the budget. Raises a
        DeliveryError subclass as ``send`` does."""
        document = InputFile(data, filename=name)
        document.mimetype = mime_type
        await self.budget.send(chat_id, Priority.NOTICE)
        try:
            await self.bot.send_document(chat_id, document, caption=caption[:1024] or None)
        except RetryAfter as exc:
            raise RateLimited(seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise Unreachable("blocked or not started") from exc
        except TelegramError as exc:
            raise TransientFailure(type(exc).__name__) from exc


class SmsChannel:
    """SMS through a provider plugin (which may itself fail over to a second one)."""

    name = "sms"

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    async def send(self, mobile: str, text: str, idempotency_key: str) -> SmsReceipt:
        """Send one SMS; return the gateway's receipt. Raises a DeliveryError subclass."""
        try:
            receipt = await self.provider.send(mobile, text, idempotency_key=idempotency_key)
        except SmsPermanentError as exc:
            raise PermanentFailure(f"{self.provider.name} {exc}") from exc
        except SmsTransientError as exc:
            retry = getattr(exc, "retry_after", None)
            if retry:
                raise RateLimited(float(retry)) from exc
            raise TransientFailure(f"{self.provider.name} {exc}") from exc
        return receipt
