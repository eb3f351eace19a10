"""The chat bot's settings: platform, tokens, Bot API addresses, webhook and send limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from radyar.settings.parse import Secret, SettingsError, _int

if TYPE_CHECKING:
    from collections.abc import Mapping


PLATFORMS = ("telegram", "bale")


@dataclass(frozen=True)
class PlatformAddresses:
    """One platform's own Bot API and webhook addresses (RADYAR_TELEGRAM_*, RADYAR_BALE_*),
    for a deployment that runs both bots."""

    api_url: str | None = None
    file_url: str | None = None
    webhook_url: str | None = None
    listen_port: int | None = None


@dataclass(frozen=True)
class BotSettings:
    """The chat bot: which platform, its token, where its Bot API is, polling or webhook.

    ``platform`` is the one this view is of; ``primary`` is RADYAR_PLATFORM, which the
    unprefixed RADYAR_BOT_API_URL, RADYAR_WEBHOOK_URL and RADYAR_LISTEN_PORT belong to.
    ``for_platform`` gives the view of each platform that has a token."""

    platform: str = "telegram"
    primary: str = "telegram"
    addresses: tuple[tuple[str, PlatformAddresses], ...] = ()
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    bale_token: Secret = field(default_factory=lambda: Secret(""))
    api_url: str | None = None
    file_url: str | None = None
    proxy: Secret = field(default_factory=lambda: Secret(""))
    webhook_url: str | None = None
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    concurrency: int = 16  # updates of different chats handled at once
    flood_updates: int = 30  # per account in a burst, refilled over flood_window_seconds
    flood_staff_updates: int = 90
    flood_window_seconds: int = 30
    send_per_second: int = 30  # messages sent or edited per second, bot and notifier together
    send_chat_burst: int = 3  # messages to one chat at once before one a second applies

    def token(self) -> Secret:
        """The token of the configured platform."""
        return self.telegram_token if self.platform == "telegram" else self.bale_token

    def platforms(self) -> tuple[str, ...]:
        """Every platform with a token, RADYAR_PLATFORM's first: the bots ``radyar run``
        runs and the chats the worker delivers to."""
        tokens = {"telegram": self.telegram_token, "bale": self.bale_token}
        order = (self.primary, *(p for p in PLATFORMS if p != self.primary))
        return tuple(p for p in order if tokens[p])

    def for_platform(self, platform: str) -> BotSettings:
        """These settings as ``platform``'s bot: its own addresses where set, else the
        unprefixed ones when it is the primary platform (the other one's webhook listens on
        the next port)."""
        own = dict(self.addresses).get(platform, PlatformAddresses())
        primary = platform == self.primary
        base = replace(self, platform=self.primary)  # the unprefixed values are the primary's
        return replace(
            base,
            platform=platform,
            api_url=own.api_url or (base.api_url if primary else None),
            file_url=own.file_url or (base.file_url if primary else None),
            webhook_url=own.webhook_url or (base.webhook_url if primary else None),
            listen_port=own.listen_port or (base.listen_port + (0 if primary else 1)),
        )


def _check_webhook_secret(secret: str) -> None:
    """The bot's own webhook secret, when set: long enough not to be guessed (on Bale it is
    also the last part of the URL) and in the only characters Telegram's secret_token takes."""
    if not secret:
        return
    if not re.fullmatch(r"[A-Za-z0-9_-]+", secret, re.ASCII):
        raise SettingsError(
            "RADYAR_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (Telegram's secret_token)"
        )
    if not 16 <= len(secret) <= 256:
        raise SettingsError(
            f"RADYAR_WEBHOOK_SECRET must be 16 to 256 characters long, got {len(secret)}"
        )


def _bot(env: Mapping[str, str]) -> BotSettings:
    platform = (env.get("RADYAR_PLATFORM") or "telegram").lower()
    if platform not in PLATFORMS:
        raise SettingsError(f"RADYAR_PLATFORM must be telegram or bale, got {platform!r}")
    secret = env.get("RADYAR_WEBHOOK_SECRET", "")
    _check_webhook_secret(secret)
    addresses = tuple(
        (name, PlatformAddresses(
            api_url=env.get(f"RADYAR_{name.upper()}_API_URL") or None,
            file_url=env.get(f"RADYAR_{name.upper()}_FILE_URL") or None,
            webhook_url=env.get(f"RADYAR_{name.upper()}_WEBHOOK_URL") or None,
            listen_port=_int(env, f"RADYAR_{name.upper()}_LISTEN_PORT", 0, 0, 65535) or None,
        ))
        for name in PLATFORMS
    )  # fmt: skip
    return BotSettings(
        platform=platform,
        primary=platform,
        addresses=addresses,
        telegram_token=Secret(env.get("RADYAR_TELEGRAM_TOKEN", "")),
        bale_token=Secret(env.get("RADYAR_BALE_TOKEN", "")),
        api_url=env.get("RADYAR_BOT_API_URL") or None,
        file_url=env.get("RADYAR_BOT_FILE_URL") or None,
        proxy=Secret(env.get("RADYAR_TELEGRAM_PROXY", "")),
        webhook_url=env.get("RADYAR_WEBHOOK_URL") or None,
        webhook_secret=Secret(secret),
        listen_host=env.get("RADYAR_LISTEN_HOST") or "127.0.0.1",
        listen_port=_int(env, "RADYAR_LISTEN_PORT", 8080, 1, 65535),
        concurrency=_int(env, "RADYAR_BOT_CONCURRENCY", 16, 1, 256),
        flood_updates=_int(env, "RADYAR_FLOOD_UPDATES", 30, 5, 10_000),
        flood_staff_updates=_int(env, "RADYAR_FLOOD_STAFF_UPDATES", 90, 5, 10_000),
        flood_window_seconds=_int(env, "RADYAR_FLOOD_WINDOW_SECONDS", 30, 1, 3600),
        send_per_second=_int(env, "RADYAR_SEND_PER_SECOND", 30, 1, 1000),
        send_chat_burst=_int(env, "RADYAR_SEND_CHAT_BURST", 3, 1, 20),
    )
