"""Normalise what users type (Persian/Arabic digits and letters) before any validation."""

from __future__ import annotations

import re

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_ASCII_DIGITS = "0123456789"

_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_DIGITS, _ASCII_DIGITS * 2)
_TO_PERSIAN = str.maketrans(_ASCII_DIGITS, _PERSIAN_DIGITS)
# Arabic Yeh and Alef Maksura → Farsi Yeh, Arabic Kaf → Keheh, tatweel dropped. ZWNJ is kept:
# it is part of correct Persian spelling (سه‌شنبه), not decoration.
_LETTERS = str.maketrans(
    {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9", "\u0640": None}
)
# ``\s`` does not match ZWNJ (U+200C is a format character), so collapsing keeps it.
_WHITESPACE = re.compile(r"\s+")


def normalize_digits(s: str) -> str:
    """Persian ``۰–۹`` and Arabic-Indic ``٠–٩`` digits to ASCII; everything else unchanged."""
    return s.translate(_TO_ASCII)


def normalize_text(s: str) -> str:
    """Digits to ASCII, Arabic letter forms to Persian, tatweel removed, whitespace collapsed."""
    s = normalize_digits(s).translate(_LETTERS)
    return _WHITESPACE.sub(" ", s).strip()


def normalize_letters(s: str) -> str:
    """Arabic Yeh and Kaf to Persian ones, for text shown as typed (digits left as they are)."""
    return s.translate(_LETTERS)


def to_persian_digits(s: str) -> str:
    """ASCII digits to Persian digits, for text shown to ``fa`` users."""
    return s.translate(_TO_PERSIAN)


def digits_only(s: str, *, allowed_separators: str = " -") -> str | None:
    """The ASCII digits of ``s`` if it holds only digits and ``allowed_separators``, else None.

    Surrounding whitespace is ignored; a string with no digit at all gives None.
    """
    s = normalize_digits(s).strip()
    digits = []
    for ch in s:
        if ch in _ASCII_DIGITS:
            digits.append(ch)
        elif ch not in allowed_separators:
            return None
    return "".join(digits) if digits else None
