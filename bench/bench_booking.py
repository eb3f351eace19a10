"""The schedule at scale: bookable days, a day's times, hold and confirm on SQLite and PostgreSQL.

Quick run: ``.venv/bin/python -m bench.bench_booking`` (2 suites, 14 days, 10,000 bookings).
The big run: ``.venv/bin/python -m bench.bench_booking --scale`` (the same as
``--bookings 200000 --days 60 --devices 10 --runs 100``), wrapped in
``flock /tmp/radyar-heavy.lock`` on a shared machine. ``--only sqlite`` or ``--only
postgresql`` runs one database.

The department is the bench's own (``bench/schedule.py``): radiography suites, each three X-ray
rooms behind one booking desk, so one "device" takes 6 patients per 10-minute slot (one per
room every 5 minutes), in two 8-hour shifts 07:00-23:00, Saturday to Thursday, for the chest
X-ray (10 minutes, one slot). Ten suites over 60 days (48 open: 8 Fridays, 3 official holidays
and a department closure are not) hold about 275,000 places; 200,000 bookings, 190,000 of them
holding a place, fill about 70% of them: the first weeks full, then partly free days, as
patients take the earliest day they can. That is about 4,000 radiographs a day, a large
regional centre; the scale is chosen to stress the schedule, not as a typical day. A suite
closed for a morning, a whole-department closure (air pollution), cancelled bookings, 20 live
holds and 50 holds that ran out but were not swept yet are in the data too.

The bookings are written in bulk (``bench/schedule.fill``), as hold and confirm would have left
them (bookings, counter rows, day totals); the measured calls are the real use cases, each in
its own unit of work with its commit. Every row is measured on the empty schedule first, so
each run carries its own baseline (full / empty), and PostgreSQL is compared with SQLite in the
same run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from bench import department, report, schedule
from bench.pg import create_pg_database, drop_pg_database
from bench.report import CONTENDERS, Result, Scale
from clinic import migrate
from clinic.actors import Actor
from clinic.availability import BookableTime, bookable_days, bookable_times, bookable_times_range
from clinic.booking import confirm_booking, hold_slot
from clinic.clock import FrozenClock
from clinic.db import make_engine, make_sessionmaker
from clinic.errors import SlotFull, SlotUnavailable
from clinic.jalali import TEHRAN, to_tehran
from clinic.policy import Policy
from clinic.uow import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

START = datetime(2026, 11, 28, 7, 0, tzinfo=TEHRAN)  # a Saturday morning


async def _timed(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await fn()  # warm-up: the holiday calendar and the statement caches
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


class Bench:
    """One database with the bench department: the measured calls, each in its own unit of work."""

    def __init__(self, url: str, scale: Scale) -> None:
        pool = {"pool_size": CONTENDERS + 5} if url.startswith("postgresql") else {}
        self.engine = make_engine(url, **pool)
        self.sessions = make_sessionmaker(self.engine)
        self.clock = FrozenClock(START)
        self.policy = Policy(horizon_days=scale.days)
        self.scale = scale
        self.first = to_tehran(START).date()
        self.last = self.first + timedelta(days=scale.days - 1)
        self.rng = random.Random(10)
        self.dept = department.Department(0, [])
        self.people: list[tuple[int, int]] = []  # (patient, approved referral), unbooked

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.policy)

    async def setup(self) -> None:
        async with self.uow() as u:
            self.dept = await department.build_department(u, self.scale.devices)
            await department.add_closures(u, self.dept, self.first)
            wanted = 4 * self.scale.runs + CONTENDERS + 4
            self.people = await schedule.add_patients(u, self.dept.exam_id, 9_000_000, wanted)
            await u.commit()

    async def days(self) -> None:
        async with self.uow() as u:
            await bookable_days(u, self.dept.exam_id)

    async def first_free_day(self) -> date:
        async with self.uow() as u:
            return (await bookable_days(u, self.dept.exam_id))[0].day

    async def free_times(self) -> list[BookableTime]:
        async with self.uow() as u:
            times = await bookable_times_range(u, self.dept.exam_id, self.first, self.last)
        return [t for day in sorted(times) for t in times[day]]

    async def hold_and_confirm(self, runs: int) -> tuple[list[float], list[float]]:
        """``runs`` patients each hold a different free time and confirm it."""
        free = await self.free_times()
        picked = self.rng.sample(free, min(runs, len(free)))
        holds, confirms = [], []
        for t in picked:
            patient, referral = self.people.pop()
            actor = Actor.patient(patient)
            t0 = time.perf_counter()
            async with self.uow() as u:
                held = await hold_slot(u, actor, referral, t.device_id, t.starts_at)
                await u.commit()
            t1 = time.perf_counter()
            async with self.uow() as u:
                await confirm_booking(u, actor, held.id)
                await u.commit()
            holds.append((t1 - t0) * 1000)
            confirms.append((time.perf_counter() - t1) * 1000)
        return holds, confirms

    async def contend(self) -> tuple[float | None, int]:
        """``CONTENDERS`` patients at once on a time with one place left: (ms, holds won)."""
        free = await self.free_times()
        last = next((t for t in free if t.free == 1), free[-1] if free else None)
        if last is None:
            return None, 0
        people = [self.people.pop() for _ in range(CONTENDERS)]

        async def attempt(patient: int, referral: int) -> int:
            async with self.uow() as u:
                try:
                    me = Actor.patient(patient)
                    await hold_slot(u, me, referral, last.device_id, last.starts_at)
                    await u.commit()
                except (SlotFull, SlotUnavailable):
                    return 0
                return 1

        t0 = time.perf_counter()
        won = sum(await asyncio.gather(*(attempt(p, r) for p, r in people)))
        return (time.perf_counter() - t0) * 1000, won

    async def measure(self, into: dict[str, list[float]]) -> None:
        runs = self.scale.runs
        into["days"] = await _timed(self.days, runs)
        day = await self.first_free_day()

        async def times() -> None:
            async with self.uow() as u:
                await bookable_times(u, self.dept.exam_id, day)

        into["times"] = await _timed(times, runs)
        into["hold"], into["confirm"] = await self.hold_and_confirm(runs)

    async def fill(self) -> tuple[schedule.Filled, float]:
        t0 = time.perf_counter()
        async with self.uow() as u:
            filled = await schedule.fill(u, self.dept, self.first, self.last, self.scale.bookings)
            await u.commit()
        # After a bulk load, as the database would have done meanwhile in ordinary use:
        # PostgreSQL's autovacuum (statistics, the visibility map), SQLite's checkpoint (the
        # one transaction left the whole load in the write-ahead log).
        if self.engine.dialect.name == "sqlite":
            await asyncio.to_thread(_checkpoint, str(self.engine.url.database))
        else:
            async with self.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE"))
        return filled, time.perf_counter() - t0


def _checkpoint(path: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def run_backend(url: str, scale: Scale) -> Result:
    """Build the bench department on ``url``, measure it empty, fill it, measure it full."""
    await migrate.upgrade(url)
    bench, result = Bench(url, scale), Result()
    try:
        await bench.setup()
        await bench.measure(result.empty)
        result.filled, result.fill_s = await bench.fill()
        await bench.measure(result.full)
        result.contention_ms, result.contention_won = await bench.contend()
    finally:
        await bench.engine.dispose()
    return result


async def main(scale: Scale, backends: list[str]) -> None:
    """Run on SQLite and, when reachable, PostgreSQL; print the table."""
    results: dict[str, Result] = {}
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"
            results["sqlite"] = await run_backend(url, scale)
    if "postgresql" in backends:
        pg = await create_pg_database("radyar_bench")
        if pg is None:
            print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
        else:
            try:
                results["postgresql"] = await run_backend(pg, scale)
            finally:
                await drop_pg_database("radyar_bench")
    print(report.table(scale, results))


def parse(argv: list[str] | None = None) -> tuple[Scale, list[str]]:
    """The scale and the backends from the command line."""
    parser = argparse.ArgumentParser(description="The schedule at scale (bench/bench_booking.py).")
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=14, help="the horizon (Policy.horizon_days)")
    parser.add_argument("--devices", type=int, default=2, help="radiography suites")
    parser.add_argument("--runs", type=int, default=50, help="samples per measure")
    parser.add_argument(
        "--scale", action="store_true", help="200,000 bookings, 60 days, 10 suites, 100 runs"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one backend")
    args = parser.parse_args(argv)
    scale = Scale(args.bookings, args.days, args.devices, args.runs)
    if args.scale:
        scale = Scale(200_000, 60, 10, 100)
    return scale, [args.only] if args.only else ["sqlite", "postgresql"]


if __name__ == "__main__":
    asyncio.run(main(*parse()))
