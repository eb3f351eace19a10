"""SMS text rules: how many parts a text takes, and no national code ever in a message."""

from __future__ import annotations

import re

from clinic.identity import is_valid_national_code
from clinic.text import normalize_digits

# GSM 03.38 default alphabet (one septet each) and its extension table (two septets: ESC + char).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
# Ten ASCII digits, optionally split by single spaces or dashes, not part of a longer number.
_TEN_DIGITS = re.compile(r"(?<![0-9])(?<![0-9][ \-])[0-9](?:[ \-]?[0-9]){9}(?![ \-]?[0-9])")


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 alphabet (with its extension table)."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def segments(text: str) -> int:
    """How many SMS parts ``text`` takes (0 for an empty text).

    GSM-7: 160 septets in one part, 153 per part when split (extension characters take two).
    Anything else, Persian included, is UCS-2: 70 UTF-16 units in one part, 67 when split.
    """
    if not text:
        return 0
    if is_gsm7(text):
        size = len(text) + sum(ch in _GSM_EXTENDED for ch in text)
        single, multi = 160, 153
    else:
        size = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if size <= single else -(-size // multi)


def ensure_no_national_code(text: str) -> None:
    """Raise ValueError if ``text`` holds a national code (10 digits with a valid check digit).

    Persian and Arabic digits count, as do codes written with spaces or dashes. The error
    never repeats the code. A 10-digit number that happens to pass the check is refused too.
    """
    for match in _TEN_DIGITS.finditer(normalize_digits(text)):
        digits = match.group().replace(" ", "").replace("-", "")
        if is_valid_national_code(digits):
            raise ValueError("an SMS must never contain a national code")
