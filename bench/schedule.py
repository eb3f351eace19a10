"""The bench department's schedule, filled in bulk as holds and confirmations leave it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bench.department import PLACES, Department
from clinic import day_counts
from clinic.availability import BookableTime, bookable_times_range
from clinic.models import Booking, Patient, Referral, SlotUsage

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from clinic.uow import UnitOfWork

CHUNK = 5000  # rows per INSERT: keeps each statement's parameter list bounded


def national_code(n: int) -> str:
    """A valid national code for patient ``n`` (distinct for distinct ``n``)."""
    body = f"{123400000 + n:09d}"
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


@dataclass
class Filled:
    """What the bulk fill wrote, for the printed summary."""

    capacity: int = 0
    bookings: int = 0
    places_taken: int = 0
    cancelled: int = 0
    expired_holds: int = 0
    live_holds: int = 0
    days_full: int = 0
    days_part: int = 0
    days_empty: int = 0


def choose_places(
    free: dict[date, list[BookableTime]], count: int, rng: random.Random
) -> list[tuple[int, datetime]]:
    """``count`` places, the nearest days first, blurred over about half the horizon.

    So the first weeks are full, later days partly free and the last ones nearly empty, as a
    real schedule looks when patients take the earliest day they can.
    """
    days = sorted(free)
    spread = max(1.0, (days[-1] - days[0]).days * 0.6) if days else 1.0
    keyed = [
        ((day - days[0]).days + rng.random() * spread, t.device_id, t.starts_at)
        for day in days
        for t in free[day]
        for _ in range(t.free)
    ]
    keyed.sort()
    return [(device, start) for _, device, start in keyed[:count]]


async def fill(
    uow: UnitOfWork, dept: Department, first: date, last: date, bookings: int, seed: int = 9
) -> Filled:
    """Write ``bookings`` bookings on the days ``first..last`` as hold and confirm would have.

    Most are confirmed; about 5% are cancelled rows whose place someone else took again; 50
    holds ran out and were not swept yet (their places still counted in ``slot_usage``) and
    20 are live. Stops at the capacity when asked for more (``Filled.bookings`` says so).
    """
    rng = random.Random(seed)
    free = await bookable_times_range(uow, dept.exam_id, first, last)
    result = Filled(capacity=sum(t.free for times in free.values() for t in times))
    cancelled = min(bookings // 20, result.capacity)
    places = choose_places(free, min(bookings - cancelled, result.capacity), rng)
    statuses = _statuses(len(places), rng)
    history = [places[i] for i in rng.sample(range(len(places)), min(cancelled, len(places)))]
    rows = list(zip(places, statuses, strict=True)) + [(p, ("cancelled", None)) for p in history]
    await _insert_bookings(uow, dept.exam_id, rows)
    usage = Counter(places)
    await _insert_usage(uow, usage)
    result.bookings, result.places_taken, result.cancelled = len(rows), len(places), len(history)
    expiries = [expires for status, expires in statuses if expires is not None]
    result.expired_holds = sum(e < timedelta(0) for e in expiries)
    result.live_holds = len(expiries) - result.expired_holds
    _count_days(result, free, usage)
    return result


def _statuses(count: int, rng: random.Random) -> list[tuple[str, timedelta | None]]:
    """Each place's status and, for a hold, when it runs out (from now)."""
    statuses: list[tuple[str, timedelta | None]] = [("confirmed", None)] * count
    for n, i in enumerate(rng.sample(range(count), min(70, count))):
        minutes = rng.randint(1, 9)
        statuses[i] = ("held", timedelta(minutes=-minutes if n < 50 else minutes))
    return statuses


def _count_days(result: Filled, free: dict[date, list[BookableTime]], usage: Counter[Any]) -> None:
    for times in free.values():
        capacity = sum(t.free for t in times)
        taken = sum(usage[(t.device_id, t.starts_at)] for t in times)
        if taken == capacity:
            result.days_full += 1
        elif taken:
            result.days_part += 1
        else:
            result.days_empty += 1


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


Row = tuple[tuple[int, datetime], tuple[str, timedelta | None]]  # (device, start), status


async def _insert_bookings(uow: UnitOfWork, exam_id: int, rows: list[Row]) -> None:
    """One patient with an approved referral per booking, written in chunks."""
    now = uow.clock.now()
    for offset, chunk in zip(range(0, len(rows), CHUNK), _chunks(rows), strict=True):
        numbers = range(offset, offset + len(chunk))
        patients = await _insert_patients(uow, numbers)
        referrals = await _insert_referrals(uow, exam_id, patients)
        values = [
            _booking(now, exam_id, (n, p, r), row)
            for n, p, r, row in zip(numbers, patients, referrals, chunk, strict=True)
        ]
        await uow.session.execute(insert(Booking), values)


def _booking(now: datetime, exam_id: int, ids: tuple[int, int, int], row: Row) -> dict[str, Any]:
    """The row ``hold_slot`` (and ``confirm_booking`` or ``cancel_booking``) would have left."""
    (n, patient, referral), ((device, starts_at), (status, expires)) = ids, row
    return {
        "code": f"B{n:08d}",
        "referral_id": referral,
        "patient_id": patient,
        "exam_id": exam_id,
        "device_id": device,
        "starts_at": starts_at,
        "slots": 1,
        "status": status,
        "hold_expires_at": now + expires if expires is not None else None,
        "created_by": "patient",
        "created_by_id": patient,
        "created_at": now - timedelta(days=1),
        "confirmed_at": None if status == "held" else now - timedelta(days=1),
        "cancel_reason": "patient" if status == "cancelled" else None,
        "ended_at": now if status == "cancelled" else None,
    }


async def _insert_patients(uow: UnitOfWork, numbers: range) -> list[int]:
    now = uow.clock.now()
    values = [
        {
            "national_code": national_code(n),
            "mobile": f"0912{n:07d}",
            "first_name": "بیمار",
            "last_name": f"شماره {n}",
            "birth_year": 1360,
            "sex": "male",
            "language": "fa",
            "consent_at": now,
            "consent_via": "bench",
            "registered_by": "staff",
            "created_at": now,
            "updated_at": now,
        }
        for n in numbers
    ]
    return await _with_ids(uow, Patient, values)


async def _insert_referrals(uow: UnitOfWork, exam_id: int, patients: list[int]) -> list[int]:
    now = uow.clock.now()
    values = [
        {
            "patient_id": p,
            "exam_id": exam_id,
            "source": "paper",
            "insurer": "none",
            "screening_answers": {},
            "status": "approved",
            "submitted_by": "staff",
            "created_at": now,
            "reviewed_at": now,
        }
        for p in patients
    ]
    return await _with_ids(uow, Referral, values)


async def _with_ids(
    uow: UnitOfWork, model: type[Patient | Referral], values: list[dict[str, Any]]
) -> list[int]:
    # SQLite cannot return a multi-row INSERT's ids in order, so SQLAlchemy would send the rows
    # one at a time; ids chosen here let the rows go in one batch.
    top = await uow.session.scalar(select(func.max(model.id))) or 0
    ids = list(range(top + 1, top + 1 + len(values)))
    await uow.session.execute(
        insert(model), [v | {"id": i} for v, i in zip(values, ids, strict=True)]
    )
    if uow.dialect == "postgresql":  # the next ordinary insert continues after them
        table = model.__tablename__
        await uow.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids[-1]})")
        )
    return ids


async def _insert_usage(uow: UnitOfWork, usage: Counter[tuple[int, datetime]]) -> None:
    """The counter rows ``capacity.take`` keeps: one per slot that has a place taken, and
    their day totals (``clinic.day_counts``, written at the commit).

    Added to a row already there (the holds measured on the empty schedule wrote some).
    """
    devices = list({device for device, _ in usage})
    there = await uow.session.execute(
        select(SlotUsage.device_id, SlotUsage.starts_at).where(SlotUsage.device_id.in_(devices))
    )
    existing = set(there.tuples())
    counts = day_counts.of(uow)
    for (device, start), used in usage.items():
        new = int((device, start) not in existing)
        counts.add(device, start, new_row=new, places_left=new * PLACES - used)
    values = [
        {"device_id": device, "starts_at": start, "used": used, "capacity": PLACES}
        for (device, start), used in sorted(usage.items())
    ]
    upsert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = upsert(SlotUsage)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "starts_at"],
        set_={"used": SlotUsage.used + stmt.excluded.used},
    )
    for chunk in _chunks(values):
        await uow.session.execute(stmt, list(chunk))


async def add_patients(
    uow: UnitOfWork, exam_id: int, first: int, count: int
) -> list[tuple[int, int]]:
    """``count`` more patients, each with an approved referral: (patient id, referral id)."""
    patients = await _insert_patients(uow, range(first, first + count))
    return list(zip(patients, await _insert_referrals(uow, exam_id, patients), strict=True))
