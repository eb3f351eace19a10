"""The HTTP half of a gateway plugin: injected session, masked key, timeouts, error mapping."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Self

import aiohttp

from .base import (
    ErrorMap,
    SmsError,
    SmsPermanentError,
    SmsProvider,
    SmsProviderError,
    SmsReceipt,
    SmsTemplate,
    SmsTransientError,
    mask_secret,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from multidict import CIMultiDictProxy


def error_for_http(status: int) -> type[SmsError]:
    """The error class for an HTTP status the provider's own map does not cover."""
    if status >= 500 or status in (408, 409, 425, 429):
        return SmsTransientError
    if status in (401, 403):
        return SmsProviderError
    return SmsPermanentError


def _retry_after(headers: CIMultiDictProxy[str]) -> float | None:
    try:
        value = float(headers.get("Retry-After", ""))
    except ValueError:  # absent, or an HTTP date: let the caller's backoff decide
        return None
    return value if value >= 0 else None


class HttpSmsProvider(SmsProvider):
    """A gateway reached over HTTP through an injected ``aiohttp.ClientSession``.

    Subclasses give ``default_base_url``, ``errors`` (gateway code → error class) and
    ``_send``/``_send_template``; ``send``/``send_template`` add the text checks and logging.
    """

    default_base_url: ClassVar[str]
    errors: ClassVar[ErrorMap]

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        base_url: str | None = None,
        sender: str = "",
        templates: Mapping[str, SmsTemplate] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._api_key = api_key
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.sender = sender
        self.templates = dict(templates or {})
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))

    @classmethod
    def build(
        cls,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        base_url: str | None = None,
        sender: str = "",
        templates: Mapping[str, SmsTemplate] | None = None,
        timeout: float = 10.0,
    ) -> Self:
        """A provider from settings."""
        return cls(
            session,
            api_key=api_key,
            base_url=base_url,
            sender=sender,
            templates=templates,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"api_key={mask_secret(self._api_key)!r}, sender={self.sender!r})"
        )

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SmsReceipt:
        """Check the text, send it, log the outcome (never the number, text or key)."""
        self.check_text(text)
        try:
            receipt = await self._send(to, text, idempotency_key)
        except SmsError as exc:
            self.log_failed("send", to, exc)
            raise
        self.log_sent("send", to, receipt, len(text))
        return receipt

    async def send_template(
        self, to: str, template: str, params: Mapping[str, str], *, idempotency_key: str
    ) -> SmsReceipt:
        """Check the parameters, send the template, log the outcome."""
        self.check_template(params)
        ref = self.templates.get(template) or SmsTemplate(template)
        try:
            receipt = await self._send_template(to, ref, params, idempotency_key)
        except SmsError as exc:
            self.log_failed("template", to, exc)
            raise
        self.log_sent("template", to, receipt, sum(len(v) for v in params.values()))
        return receipt

    @abstractmethod
    async def _send(self, to: str, text: str, idempotency_key: str) -> SmsReceipt: ...

    @abstractmethod
    async def _send_template(
        self, to: str, template: SmsTemplate, params: Mapping[str, str], idempotency_key: str
    ) -> SmsReceipt: ...

    def _own_id(self, receipt_id: str) -> str:
        """The gateway's id from either the bare id or ``SmsReceipt.ref``."""
        return receipt_id.removeprefix(f"{self.name}:")

    async def _call(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any, float | None]:
        """(HTTP status, JSON body or None, Retry-After). Timeouts and connection errors are
        transient; their messages are dropped because they may quote the URL (and its key)."""
        try:
            async with self._session.request(
                method, url, timeout=self.timeout, **kwargs
            ) as response:
                raw = await response.read()
                return response.status, _json(raw), _retry_after(response.headers)
        except TimeoutError:
            raise SmsTransientError(self.name, "timeout", "no answer in time") from None
        except aiohttp.ClientError as exc:
            raise SmsTransientError(self.name, "network", type(exc).__name__) from None

    def _error(self, code: int, http_status: int, retry_after: float | None) -> SmsError:
        """The typed error for a gateway code (its map first, then the HTTP status)."""
        cls = self.errors.get(code) or error_for_http(http_status)
        if issubclass(cls, SmsTransientError):
            return cls(self.name, code, f"http {http_status}", retry_after=retry_after)
        return cls(self.name, code, f"http {http_status}")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # an HTML error page from a proxy, or garbage
        return None
