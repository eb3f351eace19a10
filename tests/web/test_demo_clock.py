"""The demo's clock: it runs at real speed from its first instant and only moves forward, and
that first instant is in the daytime, when SMS go out and the desk is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clinic.clock import RunningClock
from clinic.jalali import TEHRAN
from radyar.demo_web.stack import first_instant


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_running_clock_keeps_real_time_and_moves_forward_when_told() -> None:
    ticks = Ticks()
    start = datetime(2026, 11, 29, 8, 0, tzinfo=TEHRAN)
    clock = RunningClock(start, ticks)
    assert clock.now() == start
    assert clock.now().tzinfo == UTC
    ticks.now += 90
    assert clock.now() == start + timedelta(seconds=90)
    clock.advance(hours=1)
    assert clock.now() == start + timedelta(hours=1, seconds=90)
    ticks.now += 10
    assert clock.now() == start + timedelta(hours=1, seconds=100)  # and it still runs


def test_the_running_clock_never_goes_back_and_needs_a_time_zone() -> None:
    clock = RunningClock(datetime(2026, 11, 29, 8, 0, tzinfo=TEHRAN), Ticks())
    with pytest.raises(ValueError, match="forward"):
        clock.advance(minutes=-5)
    with pytest.raises(ValueError, match="aware"):
        RunningClock(datetime(2026, 11, 29, 8, 0))


@pytest.mark.parametrize(
    ("now", "starts"),
    [
        ((29, 10, 15), (29, 10, 15)),  # the daytime: now
        ((29, 19, 59), (29, 19, 59)),
        ((29, 23, 30), (30, 8, 0)),  # the night: the next morning
        ((29, 4, 58), (29, 8, 0)),  # before dawn: this morning
    ],
)
def test_the_demo_starts_in_the_daytime(
    now: tuple[int, int, int], starts: tuple[int, int, int]
) -> None:
    day, hour, minute = now
    moment = datetime(2026, 11, day, hour, minute, tzinfo=TEHRAN).astimezone(UTC)
    day, hour, minute = starts
    assert first_instant(moment) == datetime(2026, 11, day, hour, minute, tzinfo=TEHRAN)
