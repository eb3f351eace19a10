"""The SMS provider plugin interface: receipts, delivery states, typed errors, safe logging."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Self

from clinic.log_redaction import keyed

from .text import ensure_no_national_code, segments

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("notifier.sms")


class DeliveryState(StrEnum):
    """Where a message is, in the gateway's own words mapped to ours."""

    QUEUED = "queued"
    SENT = "sent"  # handed to the telecom operator
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # phone off or out of reach for too long
    FAILED = "failed"  # refused, blocked, cancelled
    UNKNOWN = "unknown"  # the gateway does not know this id

    @property
    def final(self) -> bool:
        """True once the state can no longer change."""
        return self in (self.DELIVERED, self.UNDELIVERED, self.FAILED, self.UNKNOWN)


@dataclass(frozen=True)
class SmsReceipt:
    """A gateway accepted a message: its id there, and the state it reported."""

    provider: str
    message_id: str
    state: DeliveryState = DeliveryState.QUEUED

    @property
    def ref(self) -> str:
        """``provider:message_id``: what to store to ask for the status later, even behind a
        failover (``FailoverSms.status`` needs it)."""
        return f"{self.provider}:{self.message_id}"


@dataclass(frozen=True)
class SmsTemplate:
    """How one of our template names looks at one gateway.

    ``id`` is the gateway's template (Kavenegar name, SMS.ir numeric id); ``params`` lists our
    parameter names in the gateway's slot order (Kavenegar token, token2, token3, token10,
    token20). SMS.ir takes parameters by name, so it ignores ``params``.
    """

    id: str
    params: tuple[str, ...] = ()


class SmsError(Exception):
    """A send or status call failed; ``code`` is the gateway's (or "timeout", "network" …)."""

    def __init__(self, provider: str, code: int | str, detail: str = "") -> None:
        super().__init__(f"{provider} {code}" + (f": {detail}" if detail else ""))
        self.provider = provider
        self.code = code


class SmsTransientError(SmsError):
    """Try again later (timeouts, connection errors, 5xx, 409, 429), after ``retry_after``
    seconds when the gateway said so."""

    def __init__(
        self, provider: str, code: int | str, detail: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(provider, code, detail)
        self.retry_after = retry_after


class SmsPermanentError(SmsError):
    """The message will not go through this provider as it is (bad text, bad parameters)."""


class SmsProviderError(SmsPermanentError):
    """The provider cannot send for us now (key, credit, line, template setup): fail over."""


class SmsRecipientError(SmsPermanentError):
    """The number is refused (invalid, blacklisted): no provider will do better."""


ErrorMap = Mapping[int, type[SmsError]]


def mask_secret(secret: str) -> str:
    """``abcdef123456yz`` → ``ab****yz``; short secrets are fully hidden."""
    return f"{secret[:2]}****{secret[-2:]}" if len(secret) >= 12 else "****"


def number_hash(mobile: str) -> str:
    """A short stand-in for a number in logs: keyed (RADYAR_LOG_KEY), so it correlates lines
    but cannot be reversed by hashing every mobile."""
    return keyed(mobile)


class SmsProvider(ABC):
    """One SMS gateway as a plugin. Subclasses set the class attributes and the three calls.

    Calls raise SmsTransientError or an SmsPermanentError subclass; texts holding a national
    code raise ValueError before anything is sent.
    """

    name: ClassVar[str]
    supports_templates: ClassVar[bool]
    max_parts: ClassVar[int]
    idempotent: ClassVar[bool] = False  # the gateway drops a repeated plain send with our key

    @classmethod
    def build(
        cls,
        # build_provider passes every setting by name; this base takes none of them.
        session: aiohttp.ClientSession,  # noqa: ARG003
        *,
        api_key: str,  # noqa: ARG003
        base_url: str | None = None,  # noqa: ARG003
        sender: str = "",  # noqa: ARG003
        templates: Mapping[str, SmsTemplate] | None = None,  # noqa: ARG003
        timeout: float = 10.0,  # noqa: ARG003
    ) -> Self:
        """A provider from settings (what ``build_provider`` calls for registered names)."""
        raise TypeError(f"{cls.__name__} is composed in code, not built from settings")

    @abstractmethod
    async def send(self, to: str, text: str, *, idempotency_key: str) -> SmsReceipt:
        """Send ``text`` to ``to`` (``09xxxxxxxxx``)."""

    @abstractmethod
    async def send_template(
        self, to: str, template: str, params: Mapping[str, str], *, idempotency_key: str
    ) -> SmsReceipt:
        """Send an approved template (pattern) with its parameters."""

    @abstractmethod
    async def status(self, receipt_id: str) -> DeliveryState:
        """The delivery state of a message this provider sent (its id or ``SmsReceipt.ref``)."""

    def check_text(self, text: str) -> int:
        """The text's parts; ValueError for a national code, SmsPermanentError if too long."""
        ensure_no_national_code(text)
        parts = segments(text)
        if parts == 0:
            raise SmsPermanentError(self.name, "empty", "nothing to send")
        if parts > self.max_parts:
            raise SmsPermanentError(self.name, "too-long", f"{parts} parts > {self.max_parts}")
        return parts

    def check_template(self, params: Mapping[str, str]) -> None:
        """ValueError if any parameter holds a national code; SmsPermanentError if unsupported."""
        if not self.supports_templates:
            raise SmsPermanentError(self.name, "no-templates", "templates not supported")
        for value in params.values():
            ensure_no_national_code(value)

    def log_sent(self, action: str, to: str, receipt: SmsReceipt, length: int) -> None:
        """One log line for a success: provider, hashed number, length, id (no number, text)."""
        log.info(
            "sms %s provider=%s to=%s length=%d outcome=%s id=%s",
            action,
            self.name,
            number_hash(to),
            length,
            receipt.state.value,
            receipt.message_id,
        )

    def log_failed(self, action: str, to: str, exc: SmsError) -> None:
        """One log line for a failure: provider, hashed number, error class and code."""
        log.warning(
            "sms %s provider=%s to=%s outcome=%s code=%s",
            action,
            self.name,
            number_hash(to),
            type(exc).__name__,
            exc.code,
        )
