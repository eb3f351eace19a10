"""Platform flavours of the sandbox: Telegram and Bale capability flags, kept as data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlatformCaps:
    """What one platform's Bot API does; the sandbox consults these flags, never the name.

    Telegram values follow the Bot API documentation. Every Bale value that differs from Telegram
    is ASSUMED, UNVERIFIED: Bale documents the same URL scheme and envelope but not these details.
    Correct them here once checked against a real Bale bot.
    """

    name: str
    api_host: str
    max_text_length: int = 4096
    max_caption_length: int = 1024
    max_callback_data_bytes: int = 64
    max_inline_buttons: int = 100
    max_inline_row: int = 8
    parse_modes: frozenset[str] = frozenset({"HTML", "MarkdownV2", "Markdown"})
    webhook_secret_header: bool = True
    unsupported_methods: frozenset[str] = field(default_factory=frozenset)


TELEGRAM = PlatformCaps(name="telegram", api_host="api.telegram.org")

# Assumed, unverified: Bale's profile texts are managed in its own BotFather, so the description
# methods are treated as absent (404), and the secret-token header is not sent to webhooks.
BALE = PlatformCaps(
    name="bale",
    api_host="tapi.bale.ai",
    webhook_secret_header=False,
    unsupported_methods=frozenset(
        {"setmydescription", "setmyshortdescription", "getmydescription", "getmyshortdescription"}
    ),
)

PLATFORMS: dict[str, PlatformCaps] = {"telegram": TELEGRAM, "bale": BALE}


def platform_caps(name: str) -> PlatformCaps:
    """The capability flags of a platform by name ("telegram" or "bale")."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r}; known: {sorted(PLATFORMS)}") from None
