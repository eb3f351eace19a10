"""Iranian national codes and mobile numbers: parse what users type, validate, mask."""

from __future__ import annotations

from clinic.errors import InvalidMobile, InvalidNationalCode
from clinic.text import digits_only

_ASCII_DIGITS = frozenset("0123456789")
_MOBILE_SEPARATORS = " -()"


def _is_ascii_digits(s: str) -> bool:
    # str.isdigit() and int() accept Persian digits, so check the characters themselves.
    return bool(s) and all(ch in _ASCII_DIGITS for ch in s)


def is_valid_national_code(code: str) -> bool:
    """True for exactly 10 ASCII digits with a valid mod-11 check digit.

    The ten repeated-digit codes (0000000000 … 9999999999) pass the checksum but are not
    issued, so they are rejected, as are codes whose middle six digits are all zero.
    """
    if len(code) != 10 or not _is_ascii_digits(code):
        return False
    if len(set(code)) == 1 or code[3:9] == "000000":
        return False
    remainder = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    check = int(code[9])
    return check == remainder if remainder < 2 else check == 11 - remainder


def parse_national_code(raw: str) -> str:
    """The 10 ASCII digits of a national code typed by a user.

    Persian/Arabic digits, surrounding spaces and internal spaces or dashes are accepted.
    Raises InvalidNationalCode unless exactly 10 digits with a valid check digit remain.
    """
    code = digits_only(raw, allowed_separators=" -")
    if code is None or not is_valid_national_code(code):
        raise InvalidNationalCode()
    return code


def parse_mobile(raw: str) -> str:
    """A mobile number in canonical ``09xxxxxxxxx`` form.

    Accepts ``09…``, ``9…``, ``+989…``, ``989…`` and ``00989…``, with spaces, dashes or
    parentheses and Persian/Arabic digits. Unknown operator prefixes are accepted, since new
    ranges appear. Raises InvalidMobile for anything else.
    """
    # A "+" is allowed once, before any digit: "+98 912…" or "(+98) 912…".
    plus = raw.strip().lstrip(_MOBILE_SEPARATORS).startswith("+")
    text = raw.replace("+", "", 1) if plus else raw
    digits = digits_only(text, allowed_separators=_MOBILE_SEPARATORS)
    if digits is None:
        raise InvalidMobile()
    national = _strip_country_code(digits, plus=plus)
    if national is None or len(national) != 10 or not national.startswith("9"):
        raise InvalidMobile()
    return "0" + national


def _strip_country_code(digits: str, *, plus: bool) -> str | None:
    """The 10-digit national significant number, or None when the prefix is not Iran's."""
    if plus:
        return digits[2:] if digits.startswith("98") else None
    if len(digits) == 10:
        return digits
    if len(digits) == 11 and digits.startswith("0"):
        return digits[1:]
    for prefix in ("0098", "98"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 10:
            return digits[len(prefix) :]
    return None


def mask_mobile(mobile: str) -> str:
    """``09123456789`` → ``0912***6789``, for staff screens."""
    if len(mobile) <= 7:
        return "*" * len(mobile)
    return f"{mobile[:4]}***{mobile[-4:]}"


def mask_national_code(code: str) -> str:
    """``0499370899`` → ``049***0899``, for staff screens."""
    if len(code) <= 7:
        return "*" * len(code)
    return f"{code[:3]}***{code[-4:]}"
