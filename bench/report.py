"""The schedule-at-scale benchmark's printed report: p50/p99 per measure, schedule and backend."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench import department, schedule

if TYPE_CHECKING:
    from collections.abc import Iterator

MEASURES = ("days", "times", "hold", "confirm")
CONTENDERS = 20
GOAL_MS = 20.0


@dataclass(frozen=True)
class Scale:
    bookings: int
    days: int
    devices: int
    runs: int


@dataclass
class Result:
    """One backend's samples (ms) per measure, on the empty and the full schedule."""

    empty: dict[str, list[float]] = field(default_factory=dict)
    full: dict[str, list[float]] = field(default_factory=dict)
    filled: schedule.Filled = field(default_factory=schedule.Filled)
    fill_s: float = 0.0
    contention_ms: float | None = None
    contention_won: int = 0


def pct(samples: list[float], q: int) -> float:
    """The ``q``-th percentile of ``samples``."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


LABELS = {
    "days": "bookable_days, whole horizon",
    "times": "bookable_times, the first free day",
    "hold": "hold_slot + commit",
    "confirm": "confirm_booking + commit",
}


def _summary(scale: Scale, results: dict[str, Result]) -> Iterator[str]:
    f = next(iter(results.values())).filled
    yield (
        f"{scale.devices} radiography suites x {scale.days} days, "
        f"{department.PLACES} places per {department.SLOT_MINUTES}-minute slot: "
        f"{f.capacity:,} places"
    )
    yield (
        f"{f.bookings:,} bookings: {f.places_taken:,} places taken ({f.live_holds} live holds, "
        f"{f.expired_holds} expired holds not swept yet), {f.cancelled:,} cancelled earlier"
    )
    yield f"open days: {f.days_full} full, {f.days_part} partly free, {f.days_empty} untouched"
    if f.places_taken < scale.bookings - f.cancelled:
        yield f"the schedule is full: {scale.bookings:,} bookings asked for, {f.bookings:,} fit"
    yield "fill in bulk: " + ", ".join(f"{n} {r.fill_s:.1f} s" for n, r in results.items())


def table(scale: Scale, results: dict[str, Result]) -> str:
    """The printed report: one row per measure and schedule, p50/p99 per backend."""
    names = list(results)
    head = f"{'ms':<44}" + "".join(f"{n + ' p50':>16}{n + ' p99':>16}" for n in names)
    lines = [*_summary(scale, results), "", head + ("   pg/sqlite p99" if len(names) > 1 else "")]
    for m in MEASURES:
        for which in ("empty", "full"):
            label = f"{LABELS[m]}, {which}"
            values = [getattr(r, which)[m] for r in results.values()]
            cells = "".join(f"{pct(v, 50):>16.1f}{pct(v, 99):>16.1f}" for v in values)
            ratio = f"{pct(values[1], 99) / pct(values[0], 99):>15.2f}x" if len(values) > 1 else ""
            lines.append(f"{label:<44}{cells}{ratio}")
        growth = "".join(
            f"{pct(r.full[m], 50) / pct(r.empty[m], 50):>15.2f}x"
            f"{pct(r.full[m], 99) / pct(r.empty[m], 99):>15.2f}x"
            for r in results.values()
        )
        lines.append(f"{'  full / empty':<44}{growth}")
    lines.append("")
    for name, r in results.items():
        if r.contention_ms is None:
            lines.append(f"{name}: no free place left for {CONTENDERS} concurrent holds")
        else:
            lines.append(
                f"{name}: {CONTENDERS} concurrent holds on a time with one place left: "
                f"{r.contention_ms:.0f} ms, {r.contention_won} won"
            )
        days_p99 = pct(r.full["days"], 99)
        verdict = "met" if days_p99 <= GOAL_MS else "not met"
        lines.append(
            f"{name}: bookable_days p99 on the full schedule {days_p99:.1f} ms "
            f"(goal {GOAL_MS:.0f} ms: {verdict})"
        )
    return "\n".join(lines)
