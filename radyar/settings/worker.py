"""The outbox worker's settings: batch, concurrency, claim length, SMS quiet hours, give-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING

from clinic.text import normalize_digits
from radyar.settings.parse import SettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class WorkerSettings:
    """The outbox worker: rows claimed per round, sent at once, how long a claim lasts, the
    SMS quiet hours (Tehran; equal ends: none) and when a failing notice is given up."""

    batch: int = 50
    concurrency: int = 10
    lease_seconds: int = 120
    quiet_from: time = time(22, 0)
    quiet_until: time = time(7, 0)
    give_up_hours: int = 24
    # A chat notice failing for the platform's trouble goes by SMS after this many minutes
    # (same-day changes and offers, other notices, reminders); a reminder is not sent later
    # than reminder_last_minutes before the exam.
    sms_after_urgent_minutes: int = 10
    sms_after_minutes: int = 60
    sms_after_reminder_minutes: int = 180
    reminder_last_minutes: int = 60


def _quiet_hours(env: Mapping[str, str]) -> tuple[time, time]:
    raw = (env.get("RADYAR_SMS_QUIET_HOURS") or "22:00-07:00").strip().lower()
    if raw in ("off", "none"):
        return time(0, 0), time(0, 0)
    try:
        start, end = (
            time.fromisoformat(normalize_digits(part).strip()) for part in raw.split("-")
        )
    except ValueError:
        raise SettingsError(
            "RADYAR_SMS_QUIET_HOURS must look like 22:00-07:00 (Tehran time), or off"
        ) from None
    return start, end
