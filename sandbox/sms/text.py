"""Mobile numbers and SMS parts as the fake gateways see them (none of the product's rules)."""

from __future__ import annotations

import re

# 09xxxxxxxxx, 9xxxxxxxxx, 989xxxxxxxxx, +989xxxxxxxxx and 00989xxxxxxxxx, ASCII digits only.
_MOBILE = re.compile(r"(?:\+98|0098|98|0)?(9[0-9]{9})")
_LATIN = frozenset(chr(c) for c in range(32, 127)) | {"\n", "\r"}


def canonical_mobile(raw: object) -> str | None:
    """``09xxxxxxxxx`` for a mobile number the gateways accept, else None."""
    match = _MOBILE.fullmatch(str(raw).strip())
    return f"0{match.group(1)}" if match else None


def parts(text: str) -> int:
    """How many SMS parts a text takes: Latin 160/153, anything else (Persian) UCS-2 70/67.

    Close enough for charging credit; the product counts GSM-7 exactly in its own code.
    """
    if all(ch in _LATIN for ch in text):
        single, multi, size = 160, 153, len(text)
    else:
        single, multi, size = 70, 67, len(text.encode("utf-16-le")) // 2
    if size <= single:
        return 1
    return -(-size // multi)
