"""A development provider that sends nothing: it logs a hash of the number and the length."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Self

from .base import DeliveryState, SmsProvider, SmsReceipt, SmsTemplate

if TYPE_CHECKING:
    from collections.abc import Mapping

    import aiohttp

_REMEMBERED = 10_000  # keys kept for same-key-same-receipt; a development process can run long


class LogSms(SmsProvider):
    """Pretends every message is delivered at once; never logs the number or the text."""

    name = "log"
    supports_templates = True
    max_parts = 13
    idempotent = True

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_key: dict[str, SmsReceipt] = {}

    @classmethod
    def build(
        cls,
        # build_provider passes every setting by name; the log provider needs none.
        session: aiohttp.ClientSession,  # noqa: ARG003
        *,
        api_key: str,  # noqa: ARG003
        base_url: str | None = None,  # noqa: ARG003
        sender: str = "",  # noqa: ARG003
        templates: Mapping[str, SmsTemplate] | None = None,  # noqa: ARG003
        timeout: float = 10.0,  # noqa: ARG003
    ) -> Self:
        """A log provider; every setting is ignored."""
        return cls()

    def __repr__(self) -> str:
        return "LogSms()"

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SmsReceipt:
        """Log the send; the same key gives the same receipt."""
        self.check_text(text)
        return self._record("send", to, len(text), idempotency_key)

    async def send_template(
        self,
        to: str,
        template: str,  # noqa: ARG002  (SmsProvider.send_template's parameter; callers may name it)
        params: Mapping[str, str],
        *,
        idempotency_key: str,
    ) -> SmsReceipt:
        """Log the template send (its parameters' total length, never their values)."""
        self.check_template(params)
        length = sum(len(v) for v in params.values())
        return self._record("template", to, length, idempotency_key)

    async def status(self, receipt_id: str) -> DeliveryState:
        """DELIVERED for an id this provider gave out, else UNKNOWN."""
        own = receipt_id.removeprefix(f"{self.name}:")
        known = any(r.message_id == own for r in self._by_key.values())
        return DeliveryState.DELIVERED if known else DeliveryState.UNKNOWN

    def _record(self, action: str, to: str, length: int, key: str) -> SmsReceipt:
        receipt = self._by_key.get(key)
        if receipt is None:
            receipt = SmsReceipt(self.name, f"log-{next(self._ids)}", DeliveryState.DELIVERED)
            self._by_key[key] = receipt
            if len(self._by_key) > _REMEMBERED:
                del self._by_key[next(iter(self._by_key))]
        self.log_sent(action, to, receipt, length)
        return receipt
