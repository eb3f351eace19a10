"""SMS providers as plugins (Kavenegar, SMS.ir, a log provider), registered by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    DeliveryState,
    SmsError,
    SmsPermanentError,
    SmsProvider,
    SmsProviderError,
    SmsReceipt,
    SmsRecipientError,
    SmsTemplate,
    SmsTransientError,
)
from .failover import FailoverSms
from .kavenegar import KavenegarSms
from .log import LogSms
from .smsir import SmsIrSms

if TYPE_CHECKING:
    from collections.abc import Mapping

    import aiohttp

REGISTRY: dict[str, type[SmsProvider]] = {
    "kavenegar": KavenegarSms,
    "smsir": SmsIrSms,
    "log": LogSms,
}


def build_provider(
    name: str,
    session: aiohttp.ClientSession,
    *,
    api_key: str = "",
    base_url: str | None = None,
    sender: str = "",
    templates: Mapping[str, SmsTemplate] | None = None,
    timeout: float = 10.0,
) -> SmsProvider:
    """The provider registered as ``name``; ValueError for an unknown name.

    ``sender`` is Kavenegar's sender line or SMS.ir's line number; ``templates`` maps our
    template names to the gateway's (see SmsTemplate); ``base_url`` defaults to the gateway's.
    """
    cls = REGISTRY.get(name)
    if cls is None:
        raise ValueError(f"unknown SMS provider {name!r}; expected one of {sorted(REGISTRY)}")
    if cls is not LogSms and not api_key:
        raise ValueError(f"the {name} SMS provider needs an API key")
    return cls.build(
        session,
        api_key=api_key,
        base_url=base_url,
        sender=sender,
        templates=templates,
        timeout=timeout,
    )


__all__ = [
    "REGISTRY",
    "DeliveryState",
    "FailoverSms",
    "KavenegarSms",
    "LogSms",
    "SmsError",
    "SmsIrSms",
    "SmsPermanentError",
    "SmsProvider",
    "SmsProviderError",
    "SmsReceipt",
    "SmsRecipientError",
    "SmsTemplate",
    "SmsTransientError",
    "build_provider",
]
