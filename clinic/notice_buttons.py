"""The buttons a notice carries, as the bot's callback data: one definition for the notifier,
which writes them under a notice, and the bot, which routes them to its booking steps.

A patient's days of an exam are ``days:ref:<referral id>:<page>`` (or ``days:bk:<booking
id>:<page>`` to move a booking); confirming a held time is ``ok:<booking id>``. The bot's
routes ``bot.routes.DAYS`` and ``bot.routes.CONFIRM`` are defined from these two codes (this
module imports nothing of the bot: the notifier uses it without the bot).
"""

from __future__ import annotations

DAYS = "days"  # the bot's action showing the bookable days of a referral or a booking
CONFIRM = "ok"  # the bot's action confirming a held time


def book_referral(referral_id: int) -> str:
    """The days of the referral's exam, from the first page."""
    return f"{DAYS}:ref:{referral_id}:0"


def move_booking(booking_id: int) -> str:
    """The days the booking could move to, from the first page."""
    return f"{DAYS}:bk:{booking_id}:0"


def confirm_hold(booking_id: int) -> str:
    """Confirm the held time."""
    return f"{CONFIRM}:{booking_id}"
