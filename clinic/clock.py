"""The clock is a port, so rules can be tested at any instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, always aware and in UTC."""

    def now(self) -> datetime:
        """The current time, aware and in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, from the system."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests, demos)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """The time it was set to or advanced to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to ``at``."""
        self._at = at.astimezone(UTC)

    def advance(self, **kwargs: float) -> None:
        """Move forward, e.g. ``advance(minutes=15)``."""
        self._at += timedelta(**kwargs)
