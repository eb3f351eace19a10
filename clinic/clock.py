"""The clock is a port, so rules can be tested at any instant."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable


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


class RunningClock:
    """A clock that runs at real speed from ``start`` and can be moved forward (the web demo:
    reminders, hold expiry and day ends come when the visitor moves it on)."""

    def __init__(self, start: datetime, ticks: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._ticks = ticks
        self._origin = ticks()

    def now(self) -> datetime:
        """The start instant plus the real time since, plus every move forward."""
        return self._start + timedelta(seconds=self._ticks() - self._origin)

    def advance(self, **kwargs: float) -> None:
        """Move forward, e.g. ``advance(hours=1)``; never backward (a clock that went back
        would make due notices wait and sent ones look early)."""
        step = timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._start += step
