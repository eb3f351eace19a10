"""HL7 SIU messages out to the RIS per second, over one MLLP connection, on SQLite and
PostgreSQL, as a printed table.

Run: ``.venv/bin/python -m bench.bench_outbound [--events 1000] [--quick]``.

``--events`` confirmed bookings of the demo department (written in bulk, as ``tests.bulk``
does), each with its pending ``booked`` outbound event as ``clinic.outbound.record`` writes it;
then one ``OutboundSender`` (production batch and lease) drains them to a RIS on 127.0.0.1
that answers each message with AA as soon as it has read it. The baseline, in the same run:
the same messages built and sent over one connection by the MLLP adapter alone, with no
database (the wire and the building, what the sender cannot do without). A second row per
database sends each booking's ``cancelled`` too, so every booking's two events must go in
order: a referral's second event is claimed only once its first was sent.

Nothing here asserts a time; the printed ratio (sender / adapter alone) is what to compare
between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select

from bench.pg import create_pg_database, drop_pg_database
from clinic import migrate
from clinic.db import make_engine, make_sessionmaker
from clinic.demo import seed_demo
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import Booking, OutboundEvent, OutboxStatus
from clinic.outbound_views import OutboundKind, event_view
from clinic.policy import Policy
from clinic.uow import UnitOfWork
from notifier.mllp import MllpDecoder, frame
from notifier.outbound.mllp_adapter import MllpAdapter, control_id
from notifier.outbound.sender import OutboundSender
from notifier.outbound.siu import build_siu
from tests.bulk import add_booked_patients

if TYPE_CHECKING:
    from clinic.outbound_views import OutboundBooking

ANCHOR = datetime(2026, 12, 1, 8, 0, tzinfo=TEHRAN)  # a Tuesday morning
ADAPTER = "hl7_siu"
ACK_MSH = "MSH|^~\\&|RIS|H|RADYAR|R|20261201080000||ACK|A1|P|2.5.1"


class RunningClock:
    """Real time, started at ``ANCHOR``."""

    def __init__(self) -> None:
        self._base = time.perf_counter()

    def now(self) -> datetime:
        return ANCHOR + timedelta(seconds=time.perf_counter() - self._base)


@dataclass
class Ris:
    """A RIS that answers AA to each message as soon as it is read (our parse of nothing:
    the control id is cut out of MSH by position)."""

    received: int = 0
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> Ris:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        decoder = MllpDecoder()
        while data := await reader.read(65536):
            for message in decoder.feed(data):
                self.received += 1
                ack = f"{ACK_MSH}\rMSA|AA|{control_id(message)}"
                writer.write(frame(ack.encode()))
            await writer.drain()
        writer.close()


@dataclass
class Row:
    """One measured run; ``lag_ms``: how late a 1 ms timer on the event loop fired while it
    ran (what a bot tap beside the sender in ``radyar run`` would wait)."""

    events: int
    seconds: float
    connections: int
    per_message_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def seed(uow: UnitOfWork, count: int, *, cancelled: bool) -> None:
    """``count`` confirmed bookings tomorrow on CT-1, each with its booked event (and, with
    ``cancelled``, a cancelled one after it)."""
    await seed_demo(uow)
    tomorrow = datetime.combine(
        to_tehran(uow.clock.now()).date() + timedelta(days=1), datetime.min.time(), TEHRAN
    ).replace(hour=9)
    booked = await add_booked_patients(
        uow, count, first=1, starts_at=tomorrow, with_chat=False, code_prefix="O",
        consent_via="bench",
    )  # fmt: skip
    rows = (
        (
            await uow.session.execute(
                select(Booking.id, Booking.referral_id).where(Booking.id.in_(booked.bookings))
            )
        )
        .tuples()
        .all()
    )
    now = uow.clock.now()
    kinds = [OutboundKind.BOOKED, OutboundKind.CANCELLED] if cancelled else [OutboundKind.BOOKED]
    values = [
        {
            "adapter": ADAPTER, "kind": kind.value, "booking_id": b, "referral_id": r,
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "created_at": now,
        }
        for kind in kinds
        for b, r in rows
    ]  # fmt: skip
    await uow.session.execute(insert(OutboundEvent), values)


async def views(uow: UnitOfWork) -> list[OutboundBooking]:
    events = await uow.session.scalars(select(OutboundEvent).order_by(OutboundEvent.id))
    found = [await event_view(uow, e) for e in events]
    return [v for v in found if v is not None]


async def adapter_alone(prepared: list[OutboundBooking], clock: RunningClock) -> Row:
    """The baseline: build and send each message over one connection, no database."""
    ris = await Ris().start()
    adapter = MllpAdapter(ADAPTER, build_siu, "127.0.0.1", ris.port)
    times: list[float] = []
    t0 = time.perf_counter()
    for view in prepared:
        t = time.perf_counter()
        delivery = await adapter.deliver(view, clock.now())
        assert delivery.ok, delivery.answer
        times.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - t0
    await adapter.aclose()
    await ris.stop()
    return Row(len(prepared), seconds, ris.connections, times)


async def sender_run(
    url: str, count: int, *, cancelled: bool
) -> tuple[Row, list[OutboundBooking]]:
    """Migrate and seed ``url``; one sender drains every event to the RIS."""
    await migrate.upgrade(url)
    engine = make_engine(url)
    clock = RunningClock()
    sessions = make_sessionmaker(engine)
    policy = Policy(outbound=(ADAPTER,))

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock, policy)

    try:
        async with uow() as u:
            await seed(u, count, cancelled=cancelled)
            await u.commit()
        async with uow() as u:
            prepared = await views(u)
        ris = await Ris().start()
        adapter = MllpAdapter(ADAPTER, build_siu, "127.0.0.1", ris.port)
        sender = OutboundSender(uow, adapter)
        lag: list[float] = []
        done = asyncio.Event()
        ticker = asyncio.create_task(_tick(lag, done))
        t0 = time.perf_counter()
        while await sender.run_once():
            pass
        seconds = time.perf_counter() - t0
        done.set()
        await ticker
        await adapter.aclose()
        await ris.stop()
        async with uow() as u:
            sent = await u.session.scalar(
                select(func.count())
                .select_from(OutboundEvent)
                .where(OutboundEvent.status == OutboxStatus.SENT)
            )
        assert sent == len(prepared) == ris.received, (sent, len(prepared), ris.received)
        return Row(len(prepared), seconds, ris.connections, lag_ms=lag), prepared
    finally:
        await engine.dispose()


async def _tick(lag: list[float], done: asyncio.Event) -> None:
    while not done.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.001)
        lag.append((time.perf_counter() - t - 0.001) * 1000)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)] if ordered else 0.0


def table(rows: dict[str, Row], base: Row) -> str:
    lines = [
        f"{'run':<40} {'events':>7} {'msgs/s':>9} {'x alone':>8} {'conns':>6} "
        f"{'loop lag p99':>13} {'max':>7}",
        "-" * 96,
    ]
    p50 = statistics.median(base.per_message_ms)
    lines.append(
        f"{'adapter alone (no database)':<40} {base.events:>7} {base.rate:>9.0f} "
        f"{'1.00':>8} {base.connections:>6}   p50 {p50:.2f} ms/message"
    )
    for name, row in rows.items():
        lines.append(
            f"{name:<40} {row.events:>7} {row.rate:>9.0f} {row.rate / base.rate:>8.2f} "
            f"{row.connections:>6} {_pct(row.lag_ms, 0.99):>10.1f} ms "
            f"{max(row.lag_ms, default=0):>4.0f} ms"
        )
    return "\n".join(lines)


async def main(count: int) -> None:
    rows: dict[str, Row] = {}
    prepared: list[OutboundBooking] = []
    backends: list[tuple[str, str, str | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for cancelled in (False, True):
            label = "booked + cancelled" if cancelled else "booked"
            db = Path(tmp) / f"o{int(cancelled)}.db"
            row, views_ = await sender_run(f"sqlite+aiosqlite:///{db}", count, cancelled=cancelled)
            rows[f"sender, sqlite, {label}"] = row
            prepared = prepared or views_
    for cancelled in (False, True):
        name = f"radyar_bench_outbound_{os.getpid()}_{int(cancelled)}"
        pg = await create_pg_database(name)
        if pg is None:
            backends.append(("postgresql", "not reachable on 127.0.0.1:5432", None))
            break
        try:
            label = "booked + cancelled" if cancelled else "booked"
            row, _ = await sender_run(pg, count, cancelled=cancelled)
            rows[f"sender, postgresql, {label}"] = row
        finally:
            await drop_pg_database(name)
    base = await adapter_alone(prepared, RunningClock())
    print(f"SIU^S12/S15 to a RIS over MLLP on 127.0.0.1, {count} bookings")
    for name, why, _ in backends:
        print(f"{name}: {why}")
    print(table(rows, base))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=None, help="bookings (1000)")
    parser.add_argument("--quick", action="store_true", help="200 bookings")
    args = parser.parse_args()
    asyncio.run(main(args.events or (200 if args.quick else 1000)))
