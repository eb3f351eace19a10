"""Short codes people read aloud: digits only, with a check digit that catches typos."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.models import Booking
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork


def _luhn_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def new_code(length: int = 7) -> str:
    """A random code of ``length`` digits (no leading zero), the last one a Luhn check digit."""
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(length - 2)
    )
    return body + _luhn_digit(body)


def parse_code(raw: str) -> str | None:
    """The code as typed (Persian digits, spaces and dashes allowed), or None if mistyped."""
    code = "".join(ch for ch in normalize_digits(raw) if ch not in " -")
    if not (code.isascii() and code.isdigit() and len(code) >= 4):
        return None
    return code if _luhn_digit(code[:-1]) == code[-1] else None


async def unique_booking_code(uow: UnitOfWork) -> str:
    """A booking code no other booking has."""
    while True:
        code = new_code()
        if await uow.session.scalar(select(Booking.id).where(Booking.code == code)) is None:
            return code
