"""Callback data: short ``action:id…`` strings that carry ids only (at most 64 bytes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from clinic.jalali import TEHRAN

MAX_BYTES = 64
# Ids are 32-bit in the database; a forged larger number must not reach a query (it would
# overflow the driver, not just find nothing).
MAX_ID = 2**31 - 1
_PART = re.compile(r"[A-Za-z0-9_.\-]{1,24}", re.ASCII)


@dataclass(frozen=True)
class Callback:
    """A parsed button press: the action and its arguments."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int = 0) -> int | None:
        """Argument ``index`` as an int in 0..MAX_ID, or None when absent or malformed."""
        if index >= len(self.args):
            return None
        text = self.args[index]
        if not (text.isascii() and text.isdigit()):
            return None
        value = int(text)
        return value if value <= MAX_ID else None

    def day_arg(self, index: int) -> date | None:
        """Argument ``index`` as a ``YYYYMMDD`` day, or None when absent or malformed."""
        text = self.args[index] if index < len(self.args) else ""
        return _day(text) if len(text) == 8 else None

    def moment_arg(self, index: int) -> datetime | None:
        """Argument ``index`` as a ``YYYYMMDDHHMM`` Tehran time, or None when malformed."""
        text = self.args[index] if index < len(self.args) else ""
        day = _day(text[:8])
        if day is None or len(text) != 12 or not text[8:].isdigit():
            return None
        try:
            return datetime.combine(day, time(int(text[8:10]), int(text[10:])), tzinfo=TEHRAN)
        except ValueError:
            return None


def _day(text: str) -> date | None:
    # Years far from now are forged; they would overflow when moved between time zones.
    if not (len(text) == 8 and text.isdigit()) or not "2000" <= text < "2100":
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def pack(action: str, *args: object) -> str:
    """Build callback data; raises ValueError if a part is unsafe or the whole is too long."""
    parts = [action, *(str(a) for a in args)]
    if not all(_PART.fullmatch(p) for p in parts):
        raise ValueError("callback parts must be short ASCII ids")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def unpack(data: str | None) -> Callback | None:
    """Parse callback data; anything that does not look like ours (forged, stale) is None."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if not all(_PART.fullmatch(p) for p in parts):
        return None
    return Callback(parts[0], tuple(parts[1:]))


def pattern(action: str) -> str:
    """A CallbackQueryHandler pattern for ``action``."""
    return rf"^{re.escape(action)}(:|$)"
