"""Telegram and Bale: one code base, different Bot API addresses and capabilities."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.models import Platform


@dataclass(frozen=True)
class Capabilities:
    """What a platform supports; Bale's entries are assumptions until checked on a live bot."""

    base_url: str
    base_file_url: str
    edit_reply_markup: bool = True
    set_description: bool = True
    proxy_allowed: bool = True
    # Telegram sends the webhook's secret in a header; where a platform does not, the secret
    # becomes the last part of the webhook's path instead.
    webhook_secret_header: bool = True


PLATFORMS: dict[Platform, Capabilities] = {
    Platform.TELEGRAM: Capabilities(
        base_url="https://api.telegram.org/bot",
        base_file_url="https://api.telegram.org/file/bot",
    ),
    Platform.BALE: Capabilities(
        base_url="https://tapi.bale.ai/bot",
        base_file_url="https://tapi.bale.ai/file/bot",
        set_description=False,  # not documented by Bale; skipped rather than failing start-up
        proxy_allowed=False,  # Bale is reached directly inside Iran
        webhook_secret_header=False,  # not documented by Bale
    ),
}
