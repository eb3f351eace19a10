"""Callback data: short ``action:id…`` strings that carry ids only (at most 64 bytes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_PART = re.compile(r"[A-Za-z0-9_.\-]{1,24}", re.ASCII)


@dataclass(frozen=True)
class Callback:
    """A parsed button press: the action and its arguments."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int = 0) -> int | None:
        """Argument ``index`` as a non-negative int, or None when absent or malformed."""
        if index >= len(self.args) or not self.args[index].isdigit():
            return None
        return int(self.args[index])


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
