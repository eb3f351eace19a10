"""No personal data in any log line: a filter on every handler of the root logger that masks,
whatever the level, library or exception, what a line could carry of a patient (national
codes, mobiles, Persian text: names and messages, the fields of an update that hold them) and
the bot tokens; and keyed hashes (HMAC-SHA256 with RADYAR_LOG_KEY) for the identifiers our own
lines name, so a hash cannot be reversed by trying every mobile (the number space is small).

``install(key)`` is called once by the ``radyar`` entry point; ``keyed`` is what code logs in
place of a mobile or a national code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

_DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669]"
_SCRIPT = "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A bot token: its id, a colon and the secret (also inside a URL path).
    (re.compile(r"\d{3,12}:[A-Za-z0-9_-]{12,}"), "‹token›"),
    # The fields of an update, a request or a row that hold a person's words or details, in
    # JSON, a repr or a query string.
    (
        re.compile(
            r"""(?P<key>["']?(?:text|caption|first_name|last_name|full_name|username|"""
            r"""phone_number|national_code|mobile|name|message|body|query)["']?\s*[:=]\s*)"""
            r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,&{}\[\]()"']+)""",
            re.IGNORECASE,
        ),
        r"\g<key>‹…›",
    ),
    # Persian or Arabic script: names, messages, addresses (our own log lines are English).
    (re.compile(rf"{_SCRIPT}+(?:[\s\u200c]+{_SCRIPT}+)*"), "‹text›"),
    # Runs of ten or more digits, Persian and Arabic ones too: national codes, mobiles with
    # or without +98 / 0098 / 0.
    (re.compile(rf"(?<!{_DIGIT})\+?{_DIGIT}{{10,}}(?!{_DIGIT})"), "‹number›"),
)
_state = {"key": secrets.token_bytes(32)}  # until install(): this process's own key
# The secrets set in this process's settings, masked wherever they show up whatever their form.
_secrets: list[str] = []
_SHORTEST_SECRET = 6  # shorter ones would mask ordinary words; settings refuse them anyway


def redact(text: str) -> str:
    """``text`` with everything personal or secret masked."""
    for secret in _secrets:
        text = text.replace(secret, "‹secret›")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def keyed(value: str) -> str:
    """A short keyed hash standing for ``value`` (a mobile, a national code) in a log line:
    the same in every process sharing RADYAR_LOG_KEY, useless without it."""
    digest = hmac.new(_state["key"], value.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:12]


class Redacting(logging.Filter):
    """Formats each record's message, exception and stack now, masked, so no formatter or
    handler later sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask ``record`` in place; every record passes."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep its parts, masked all the same
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(
    key: bytes = b"", root: logging.Logger | None = None, secrets: Iterable[str] = ()
) -> None:
    """Put the filter on every handler of ``root`` (the root logger), key the hashes with
    ``key`` (empty: this process's random key) and mask each of ``secrets`` (tokens,
    passwords) wherever it appears."""
    if key:
        _state["key"] = key
    known = {s for s in secrets if len(s) >= _SHORTEST_SECRET}
    _secrets[:] = sorted(known | set(_secrets), key=len, reverse=True)
    root = root or logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, Redacting) for f in handler.filters):
            handler.addFilter(Redacting())


__all__ = ["Redacting", "install", "keyed", "redact"]
