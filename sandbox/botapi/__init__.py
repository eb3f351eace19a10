"""A fake of the Telegram/Bale Bot API on loopback, spoken to by python-telegram-bot over HTTP."""

from .calls import MethodSpec
from .platforms import PLATFORMS, PlatformCaps
from .ratelimit import RateLimits
from .registry import METHODS
from .server import BotApiSandbox
from .world import SimUser, StoredMessage

__all__ = [
    "METHODS",
    "PLATFORMS",
    "BotApiSandbox",
    "MethodSpec",
    "PlatformCaps",
    "RateLimits",
    "SimUser",
    "StoredMessage",
]
