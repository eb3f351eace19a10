"""The SMS gateways' settings: the main one and the failover, each a provider with its key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from radyar.settings.parse import Secret, SettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class SmsSettings:
    """One SMS gateway: its provider plugin name, key, address and sender line."""

    provider: str = "log"
    api_key: Secret = field(default_factory=lambda: Secret(""))
    base_url: str | None = None
    sender: str = ""


SMS_PROVIDERS = ("log", "kavenegar", "smsir")


def _sms(env: Mapping[str, str], prefix: str, default: str | None) -> SmsSettings | None:
    provider = (env.get(f"{prefix}_PROVIDER") or default or "").lower()
    if not provider:
        return None
    if provider not in SMS_PROVIDERS:
        raise SettingsError(f"{prefix}_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}")
    key = env.get(f"{prefix}_API_KEY", "")
    if provider != "log" and not key:
        raise SettingsError(f"{prefix}_API_KEY is needed for the {provider} SMS provider")
    return SmsSettings(
        provider=provider,
        api_key=Secret(key),
        base_url=env.get(f"{prefix}_BASE_URL") or None,
        sender=env.get(f"{prefix}_SENDER", ""),
    )
