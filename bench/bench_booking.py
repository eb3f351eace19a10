"""Booking throughput and availability cost on SQLite and PostgreSQL, as a printed table.

Run: ``.venv/bin/python -m bench.bench_booking [--bookings 300]``. The baseline of each row is
the same measurement on the empty schedule (availability) or on SQLite (the PostgreSQL column),
taken in the same run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bench.pg import create_pg_database, drop_pg_database
from clinic import migrate
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times_range
from clinic.booking import confirm_booking, hold_slot
from clinic.clock import FrozenClock
from clinic.db import make_engine, make_sessionmaker
from clinic.demo import seed_demo
from clinic.errors import SlotFull, SlotUnavailable
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import Exam
from clinic.patients import PatientDetails, register_patient
from clinic.policy import Policy
from clinic.referrals import ReferralRequest, submit_referral
from clinic.uow import UnitOfWork

START = datetime(2026, 11, 28, 7, 0, tzinfo=TEHRAN)  # a Saturday morning
SYSTEM = Actor.system()


def national_code(n: int) -> str:
    """A valid national code for patient ``n`` (distinct for distinct ``n``)."""
    body = f"{123400000 + n:09d}"
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


@dataclass
class Result:
    """One backend's numbers."""

    days_empty_ms: float = 0.0
    days_full_ms: float = 0.0
    book_per_s: float = 0.0
    contention_ms: float | None = None
    booked: int = 0
    wanted: int = 0


async def _median_ms(fn: Callable[[], Awaitable[object]], runs: int = 15) -> float:
    await fn()  # warm-up: the holiday calendar and the statement caches
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


async def _patients(uow: UnitOfWork, exam: Exam, count: int, first: int) -> list[tuple[int, int]]:
    out = []
    for n in range(first, first + count):
        details = PatientDetails(
            national_code(n), f"0912{n:07d}", "بیمار", "آزمایشی", 1360, "male"
        )
        patient = await register_patient(uow, SYSTEM, details, consent=True)
        request = ReferralRequest(patient.id, exam.id, "tamin", {}, tracking_code=f"{n:08d}")
        out.append((patient.id, (await submit_referral(uow, SYSTEM, request)).id))
    return out


async def run_backend(url: str, bookings: int) -> Result:
    """Seed the demo department on ``url`` and measure."""
    await migrate.upgrade(url)
    engine = make_engine(url, pool_size=25) if url.startswith("postgresql") else make_engine(url)
    sessions, clock, result = make_sessionmaker(engine), FrozenClock(START), Result()

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock, Policy())

    try:
        async with uow() as u:
            await seed_demo(u)
            exam = await u.session.scalar(select(Exam).where(Exam.code == "CT-BRAIN"))
            assert exam is not None
            people = await _patients(u, exam, bookings + 20, 0)
            await u.commit()

        async def days() -> None:
            async with uow() as u:
                await bookable_days(u, exam.id)

        result.days_empty_ms = await _median_ms(days)
        result.wanted = bookings
        result.booked, result.book_per_s = await _book_sequentially(
            uow, exam.id, people[:bookings]
        )
        result.days_full_ms = await _median_ms(days)
        result.contention_ms = await _contend(uow, exam.id, people[bookings:])
    finally:
        await engine.dispose()
    return result


async def _book_sequentially(
    uow: Callable[[], UnitOfWork], exam_id: int, people: list[tuple[int, int]]
) -> tuple[int, float]:
    async with uow() as u:
        first = to_tehran(START).date()
        times = await bookable_times_range(u, exam_id, first, first + timedelta(days=29))
    slots = [t for day in sorted(times) for t in times[day]]
    # The horizon may hold fewer places than asked for: book what fits, the table says so.
    t0, booked = time.perf_counter(), 0
    for (patient, referral), slot in zip(people, slots, strict=False):
        async with uow() as u:
            me = Actor.patient(patient)
            held = await hold_slot(u, me, referral, slot.device_id, slot.starts_at)
            await confirm_booking(u, me, held.id)
            await u.commit()
            booked += 1
    return booked, booked / (time.perf_counter() - t0) if booked else 0.0


async def _contend(
    uow: Callable[[], UnitOfWork], exam_id: int, people: list[tuple[int, int]]
) -> float | None:
    async with uow() as u:
        first = to_tehran(START).date()
        times = await bookable_times_range(u, exam_id, first, first + timedelta(days=29))
    free = [t for day in sorted(times) for t in times[day]]
    if not free:  # a full schedule has no last place to fight over
        return None
    last = free[-1]

    async def attempt(patient: int, referral: int) -> None:
        async with uow() as u:
            try:
                await hold_slot(
                    u, Actor.patient(patient), referral, last.device_id, last.starts_at
                )
                await u.commit()
            except (SlotFull, SlotUnavailable):
                pass

    t0 = time.perf_counter()
    await asyncio.gather(*(attempt(p, r) for p, r in people))
    return (time.perf_counter() - t0) * 1000


def _table(results: dict[str, Result]) -> str:
    base = results["sqlite"]
    lines = [
        f"{'measure':<44}" + "".join(f"{name:>14}" for name in results) + f"{'pg/sqlite':>11}",
    ]
    rows = [
        ("bookable days, 30 days, empty (ms, median)", "days_empty_ms"),
        (f"bookable days, after {base.booked} bookings (ms)", "days_full_ms"),
        ("hold + confirm, sequential (bookings/s)", "book_per_s"),
        ("20 concurrent holds on the last place (ms)", "contention_ms"),
    ]
    for label, attr in rows:
        values = [getattr(r, attr) for r in results.values()]
        if None in values:
            lines.append(f"{label:<44}" + "".join(f"{'-':>14}" for _ in values))
            continue
        ratio = f"{values[1] / values[0]:>10.2f}x" if len(values) > 1 and values[0] else ""
        lines.append(f"{label:<44}" + "".join(f"{v:>14.1f}" for v in values) + ratio)
    if base.booked < base.wanted:
        lines.append(
            f"the schedule was full after {base.booked} of {base.wanted} bookings: "
            "no free place was left for the contention row"
        )
    growth = base.days_full_ms / base.days_empty_ms if base.days_empty_ms else 0
    lines.append(f"sqlite: availability on the full schedule costs {growth:.2f}x the empty one")
    return "\n".join(lines)


async def main(bookings: int) -> None:
    """Run on SQLite and, when reachable, PostgreSQL; print the table."""
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await run_backend(
            f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}", bookings
        )
    pg = await create_pg_database("radyar_bench")
    if pg is not None:
        try:
            results["postgresql"] = await run_backend(pg, bookings)
        finally:
            await drop_pg_database("radyar_bench")
    else:
        print("PostgreSQL not reachable on 127.0.0.1:5432: SQLite only")
    print(_table(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=300)
    asyncio.run(main(parser.parse_args().bookings))
