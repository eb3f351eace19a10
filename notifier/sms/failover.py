"""A primary SMS provider with a secondary taking over when the primary cannot send for us."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from .base import (
    DeliveryState,
    SmsError,
    SmsProvider,
    SmsProviderError,
    SmsReceipt,
    SmsTransientError,
    number_hash,
)

log = logging.getLogger("notifier.sms")
Call = Callable[[SmsProvider], Awaitable[SmsReceipt]]


class FailoverSms(SmsProvider):
    """Send through ``primary``; use ``secondary`` when the primary fails as a provider.

    - SmsProviderError (key, credit, line, template setup): this message goes to the secondary
      at once, and so does every message for ``cooldown`` seconds.
    - SmsTransientError: raised for the caller to retry later (same key, so Kavenegar drops a
      repeat); after ``transient_limit`` in a row the secondary takes over for ``cooldown``.
    - SmsRecipientError and other permanent errors: raised; another provider would fail too.

    The secondary gets the same idempotency key. Keys are per gateway, so a message the
    primary sent before timing out can still arrive twice: once from each gateway.
    """

    name = "failover"
    supports_templates = True
    max_parts = 13  # each provider checks its own limit

    def __init__(
        self,
        primary: SmsProvider,
        secondary: SmsProvider,
        *,
        transient_limit: int = 3,
        cooldown: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.secondary = secondary
        self.transient_limit = transient_limit
        self.cooldown = cooldown
        self._clock = clock
        self._transient = 0
        self._down_until = float("-inf")

    def __repr__(self) -> str:
        return f"FailoverSms(primary={self.primary!r}, secondary={self.secondary!r})"

    @property
    def primary_down(self) -> bool:
        """True while the secondary is standing in."""
        return self._clock() < self._down_until

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SmsReceipt:
        """Send through whichever provider is up (see the class docstring)."""
        return await self._route(to, lambda p: p.send(to, text, idempotency_key=idempotency_key))

    async def send_template(
        self, to: str, template: str, params: Mapping[str, str], *, idempotency_key: str
    ) -> SmsReceipt:
        """Send a template through whichever provider is up; both must know ``template``."""
        return await self._route(
            to, lambda p: p.send_template(to, template, params, idempotency_key=idempotency_key)
        )

    async def status(self, receipt_id: str) -> DeliveryState:
        """The state from the provider named in ``receipt_id`` (an ``SmsReceipt.ref``)."""
        provider, _, own = receipt_id.partition(":")
        for candidate in (self.primary, self.secondary):
            if candidate.name == provider and own:
                return await candidate.status(own)
        raise ValueError("FailoverSms.status needs SmsReceipt.ref ('provider:id')")

    async def _route(self, to: str, call: Call) -> SmsReceipt:
        if self.primary_down:
            return await call(self.secondary)
        try:
            receipt = await call(self.primary)
        except SmsProviderError as exc:
            self._fail_over(to, exc)
        except SmsTransientError as exc:
            self._transient += 1
            if self._transient < self.transient_limit:
                raise
            self._fail_over(to, exc)
        else:
            self._transient = 0
            return receipt
        return await call(self.secondary)

    def _fail_over(self, to: str, exc: SmsError) -> None:
        self._transient = 0
        self._down_until = self._clock() + self.cooldown
        log.warning(
            "sms failover from=%s to=%s recipient=%s reason=%s code=%s for=%.0fs",
            self.primary.name,
            self.secondary.name,
            number_hash(to),
            type(exc).__name__,
            exc.code,
            self.cooldown,
        )
