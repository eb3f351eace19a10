"""Delivery channels (Telegram/Bale chat, SMS) with every failure mapped to one of four kinds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from notifier.sms.base import SmsPermanentError, SmsProvider, SmsReceipt, SmsTransientError


class DeliveryError(Exception):
    """A send did not go through; the subclass says what to do next."""


class RateLimited(DeliveryError):
    """The platform asked us to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """This recipient cannot be reached on this channel (blocked the bot, no chat): fall back."""


class PermanentFailure(DeliveryError):
    """Sending this message again will not help."""


class TransientFailure(DeliveryError):
    """Try again later."""


def seconds(value: float | timedelta) -> float:
    """python-telegram-bot gives retry_after as int or timedelta."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pacer:
    """At most ``overall`` sends per second in all, and one per ``per_chat`` seconds per chat."""

    def __init__(self, overall: float = 30.0, per_chat: float = 1.0) -> None:
        self._interval = 1.0 / overall if overall > 0 else 0.0
        self._per_chat = per_chat
        self._next_any = 0.0
        self._next_chat: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        """Sleep until sending to ``chat_id`` keeps both limits."""
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next_any, self._next_chat.get(chat_id, 0.0))
            self._next_any = at + self._interval
            self._next_chat[chat_id] = at + self._per_chat
            if len(self._next_chat) > 10_000:
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)


class ChatChannel:
    """Telegram or Bale through python-telegram-bot's Bot, paced to the platform's limits."""

    def __init__(self, name: str, bot: Bot, pacer: Pacer | None = None) -> None:
        self.name = name
        self.bot = bot
        self.pacer = pacer or Pacer()

    async def send(self, chat_id: int, text: str, buttons: Sequence[tuple[str, str]] = ()) -> str:
        """Send one message; return its message id. Raises a DeliveryError subclass."""
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
            )
        await self.pacer.wait(chat_id)
        try:
            message = await self.bot.send_message(chat_id, text[:4096], reply_markup=markup)
        except RetryAfter as exc:
            raise RateLimited(seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise Unreachable("blocked or not started") from exc
        except BadRequest as exc:  # before NetworkError, which it subclasses
            if "chat not found" in exc.message.lower():
                raise Unreachable("chat not found") from exc
            raise PermanentFailure(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise TransientFailure(type(exc).__name__) from exc
        except TelegramError as exc:
            raise TransientFailure(type(exc).__name__) from exc
        return str(message.message_id)


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
