"""Notifier throughput on SQLite and PostgreSQL: outbox delivery and HL7 intake, as printed tables.

Run: ``.venv/bin/python -m bench.bench_notifier [--messages 500] [--reports 200] [--quick]``.

1. Outbox delivery: a broadcast (queued through ``clinic.broadcasts``) of ``--messages`` rows,
   delivered by one ``Worker.run`` (production batch and concurrency) to the Bot API sandbox
   (its flood control off) with the production send budget (30/s overall, kept in the
   database as ``radyar run`` keeps it, 1/s per chat), with the budget opened (the worker's own
   ceiling), and by SMS through the Kavenegar sandbox (patients
   without a chat account). The baseline of each backend's table is its first row.
2. PostgreSQL only: 1, 2 and 4 workers (asyncio tasks in this process, each its own Worker and
   channel) on one queue, budget opened; every sandbox delivery is counted against the rows.
3. HL7 intake: ``--reports`` ORU^R01 final reports over one MLLP connection (each sent when the
   previous one's ACK came back) to ``start_mllp_server(make_handler(uow))``, for admitted
   bookings whose accession numbers are known; the PostgreSQL column is compared with SQLite.
   The listener's per-connection message rate is opened (the default, 20 a second, would
   measure the limit, not the intake).

Rows of a delivery run are all due when its workers start; latency is ``sent_at`` minus the
later of the row's due time and that start. The clock runs in real time from a fixed working-day
morning in Tehran (no quiet hours). Everything listens on 127.0.0.1; the PostgreSQL database is
created and dropped by the run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy import func, insert, select
from telegram import Bot

from bench.pg import create_pg_database, drop_pg_database
from clinic import migrate
from clinic.actors import Actor
from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
from clinic.db import make_engine, make_sessionmaker
from clinic.demo import seed_demo
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import Device, OutboxMessage, Platform, Report, Role, StaffRole
from clinic.policy import Department, Policy
from clinic.send_ledger import Bucket
from clinic.uow import UnitOfWork
from notifier.budget import SendBudget, SendLimits
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.hl7 import make_handler
from notifier.ledger import DbLedger
from notifier.mllp import MllpDecoder, MllpLimits, frame, start_mllp_server
from notifier.sms import build_provider
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox
from tests.bulk import add_booked_patients

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

HOST = "127.0.0.1"
# Sunday 8 Azar 1405, 10:00 in Tehran: a working day, outside SMS quiet hours.
ANCHOR = datetime(2026, 11, 29, 10, 0, tzinfo=TEHRAN)
TOKEN = "876543:BENCH-NOTIFIER"
SMS_KEY = "kv-bench-notifier-key-01"
SMS_SENDER = "10004346"
FIRST_USER = 910_000
BATCH, CONCURRENCY = 50, 10  # the production defaults (RADYAR_WORKER_BATCH / _CONCURRENCY)
WORKER_COUNTS = (1, 2, 4)
HL7_FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "hl7" / "oru_r01_final.hl7"
PRODUCTION_PACER = "telegram, production send budget (30/s, 1/s per chat)"
OPEN_PACER = "telegram, send budget opened"
SMS_ROUTE = "sms, kavenegar sandbox"


def national_code(n: int) -> str:
    """A valid national code for patient ``n`` (distinct for distinct ``n``)."""
    body = f"{234500000 + n:09d}"
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


class RunningClock:
    """Real time, started at ``ANCHOR`` (so quiet hours and booking days are fixed)."""

    def __init__(self, anchor: datetime = ANCHOR) -> None:
        self._anchor = anchor
        self._base = time.perf_counter()

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=time.perf_counter() - self._base)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


@dataclass
class Delivery:
    """One delivery run."""

    rows: int = 0
    sent: int = 0  # rows marked sent
    deliveries: int = 0  # requests the sandbox accepted during the run
    duplicates: int = 0  # recipients that got this run's message more than once
    seconds: float = 0.0  # start to the last sent_at
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return _ms(self.latencies_ms, 0.50)

    @property
    def p95(self) -> float:
        return _ms(self.latencies_ms, 0.95)


@dataclass
class Intake:
    """The HL7 run."""

    messages: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    acks: Counter[str] = field(default_factory=Counter)
    final_reports: int = 0

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


@dataclass
class Result:
    """One backend's numbers."""

    setup_s: float = 0.0
    routes: dict[str, Delivery] = field(default_factory=dict)
    workers: dict[int, Delivery] = field(default_factory=dict)
    intake: Intake = field(default_factory=Intake)


@dataclass
class Bench:
    """A migrated, seeded database with its patients, and the two sandboxes."""

    uow: Callable[[], UnitOfWork]
    clock: RunningClock
    chat: BotApiSandbox
    sms: SmsSandbox
    bot: Bot
    http: aiohttp.ClientSession
    sender: Actor
    chat_audience: Audience
    sms_audience: Audience
    chat_ids: list[int]
    runs: int = 0

    def channels(self, pacer: SendBudget) -> Channels:
        provider = build_provider(
            "kavenegar", self.http, api_key=SMS_KEY, base_url=self.sms.url, sender=SMS_SENDER
        )
        return Channels(
            chat={Platform.TELEGRAM: ChatChannel("telegram", self.bot, pacer)},
            sms=SmsChannel(provider),
        )


# --- setup ---------------------------------------------------------------------------------


async def add_patients(
    uow: UnitOfWork,
    numbers: range,
    *,
    device_code: str,
    starts_at: datetime,
    telegram: bool,
    admitted: bool = False,
) -> list[int]:
    """Patients numbered ``numbers`` with a booking each on the device; returns booking ids.

    ``telegram``: a Telegram account with user and chat id ``FIRST_USER + n``. ``admitted``:
    the booking is checked in (else confirmed).
    """
    booked = await add_booked_patients(
        uow,
        len(numbers),
        first=numbers.start,
        starts_at=starts_at,
        device_code=device_code,
        with_chat=telegram,
        admitted=admitted,
        code_prefix="B",
        first_user=FIRST_USER,
        national_code=national_code,
        consent_via="bench",
    )
    return booked.bookings


def accession(n: int) -> str:
    return f"RAD-B{n:07d}"


async def _device_id(uow: UnitOfWork, code: str) -> int:
    found = await uow.session.scalar(select(Device.id).where(Device.code == code))
    assert found is not None
    return found


async def seed(uow: UnitOfWork, messages: int, reports: int) -> tuple[Actor, int, int, range]:
    """The demo department, ``messages`` patients with Telegram (CT-1, tomorrow), as many
    without a chat account (MRI-1, tomorrow) and ``reports`` admitted today on CT-1 with
    accession numbers. Returns the broadcaster, the two device ids and the HL7 numbers."""
    await seed_demo(uow)
    today = to_tehran(uow.clock.now()).date()
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), TEHRAN)
    chat, sms = range(messages), range(messages, 2 * messages)
    hl7 = range(2 * messages, 2 * messages + reports)
    await add_patients(
        uow, chat, device_code="CT-1", starts_at=tomorrow.replace(hour=9), telegram=True
    )
    await add_patients(
        uow, sms, device_code="MRI-1", starts_at=tomorrow.replace(hour=9), telegram=False
    )
    morning = datetime.combine(today, datetime.min.time(), TEHRAN).replace(hour=8)
    admitted = await add_patients(
        uow, hl7, device_code="CT-1", starts_at=morning, telegram=False, admitted=True
    )
    now = uow.clock.now()
    await uow.session.execute(
        insert(Report),
        [
            {
                "accession_number": accession(n),
                "booking_id": b,
                "status": "pending",
                "pickup_code": f"{n:06d}",
                "created_at": now,
            }
            for n, b in zip(hl7, admitted, strict=True)
        ],
    )
    staff_id = await uow.session.scalar(
        select(StaffRole.staff_id).where(StaffRole.role == Role.BROADCASTER.value)
    )
    assert staff_id is not None, "the demo seed has no broadcaster"
    sender = Actor.staff(staff_id, [Role.BROADCASTER])
    return sender, await _device_id(uow, "CT-1"), await _device_id(uow, "MRI-1"), hl7


# --- 1 and 2: outbox delivery --------------------------------------------------------------


async def queue_broadcast(bench: Bench, audience: Audience) -> tuple[int, str]:
    """Queue a broadcast to ``audience`` as staff would; returns its id and its marker."""
    bench.runs += 1
    marker = f"bench-run-{bench.runs}"
    body = f"{marker}: بخش تصویربرداری فردا از ساعت ۷ صبح باز است."
    async with bench.uow() as uow:
        draft, _ = await draft_broadcast(uow, bench.sender, body, audience)
        await send_broadcast(uow, bench.sender, draft.id)
        await uow.commit()
        return draft.id, marker


def _chat_sent(bench: Bench) -> int:
    return bench.chat.request_counts().get("sendMessage", 0)


def _sms_sent(bench: Bench) -> int:
    return len(bench.sms.messages("kavenegar"))


async def deliver(
    bench: Bench, *, route: str, pacer: Callable[[Bench], SendBudget], workers: int = 1
) -> Delivery:
    """Queue one broadcast and run ``workers`` workers until the sandbox has every message."""
    by_sms = route == SMS_ROUTE
    audience = bench.sms_audience if by_sms else bench.chat_audience
    broadcast_id, marker = await queue_broadcast(bench, audience)
    counted = _sms_sent if by_sms else _chat_sent
    async with bench.uow() as uow:
        rows = int(
            await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.dedup_key.like(f"broadcast:{broadcast_id}:%"))
            )
            or 0
        )
    before, sms_before = counted(bench), _sms_sent(bench)
    team = [
        Worker(
            bench.uow,
            bench.channels(pacer(bench)),
            Department(),
            batch=BATCH,
            concurrency=CONCURRENCY,
            status_every=None,
        )
        for _ in range(workers)
    ]
    stop = asyncio.Event()
    started = bench.clock.now()
    deadline = time.perf_counter() + 60 + rows / 10
    tasks = [asyncio.create_task(worker.run(stop)) for worker in team]
    try:
        while counted(bench) - before < rows and time.perf_counter() < deadline:
            if any(task.done() for task in tasks):
                break  # a worker died: its exception comes out of the gather below
            await asyncio.sleep(0.005)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    result = Delivery(rows=rows, deliveries=counted(bench) - before)
    async with bench.uow() as uow:
        found = await uow.session.execute(
            select(
                OutboxMessage.status, OutboxMessage.next_attempt_at, OutboxMessage.sent_at
            ).where(OutboxMessage.dedup_key.like(f"broadcast:{broadcast_id}:%"))
        )
        last = started
        for status, due, sent_at in found.tuples():
            if status != "sent" or sent_at is None:
                continue
            result.sent += 1
            result.latencies_ms.append((sent_at - max(due, started)).total_seconds() * 1000)
            last = max(last, sent_at)
    result.seconds = (last - started).total_seconds()
    result.duplicates = _duplicates(bench, marker, by_sms, sms_before)
    return result


def _duplicates(bench: Bench, marker: str, by_sms: bool, sms_before: int) -> int:
    """Extra copies of this run's message, counted per recipient in the sandbox."""
    if by_sms:
        got = Counter(
            m.mobile for m in bench.sms.messages("kavenegar")[sms_before:] if marker in m.text
        )
        return sum(count - 1 for count in got.values())
    extra = 0
    for chat_id in bench.chat_ids:
        mine = [m for m in bench.chat.messages_to(chat_id) if marker in (m.text or "")]
        extra += max(len(mine) - 1, 0)
    return extra


# --- 3: HL7 intake -------------------------------------------------------------------------


def hl7_message(n: int, day: date) -> bytes:
    """The ORU^R01 final fixture for patient ``n`` (placeholders filled, as in test_hl7)."""
    raw = HL7_FIXTURE.read_bytes().decode("utf-8")
    for key, value in (
        ("{ACCESSION}", accession(n)),
        ("{NATIONAL_CODE}", national_code(n)),
        ("{DATE}", day.strftime("%Y%m%d")),
        ("RIS00001001", f"RIS{n:08d}"),
    ):
        raw = raw.replace(key, value)
    return raw.encode("utf-8")


def _msa_code(ack: bytes) -> str:
    for segment in ack.decode("utf-8", errors="replace").split("\r"):
        if segment.startswith("MSA|"):
            return segment.split("|")[1]
    return "?"


async def intake(bench: Bench, numbers: range) -> Intake:
    """Send one report per admitted booking over one MLLP connection, ACK by ACK."""
    day = to_tehran(bench.clock.now()).date()
    payloads = [hl7_message(n, day) for n in numbers]
    result = Intake(messages=len(payloads))
    opened = MllpLimits(frames_per_second=1_000_000)
    server = await start_mllp_server(make_handler(bench.uow), HOST, 0, opened)
    try:
        port = int(server.sockets[0].getsockname()[1])
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            decoder = MllpDecoder()
            began = time.perf_counter()
            for payload in payloads:
                t0 = time.perf_counter()
                writer.write(frame(payload))
                await writer.drain()
                replies: list[bytes] = []
                while not replies:
                    data = await asyncio.wait_for(reader.read(65536), 30)
                    if not data:
                        raise ConnectionError("the MLLP server closed the connection")
                    replies = decoder.feed(data)
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)
                result.acks[_msa_code(replies[0])] += 1
            result.seconds = time.perf_counter() - began
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    async with bench.uow() as uow:
        result.final_reports = int(
            await uow.session.scalar(
                select(func.count()).select_from(Report).where(Report.status == "final")
            )
            or 0
        )
    return result


# --- one backend ---------------------------------------------------------------------------


async def run_backend(url: str, messages: int, reports: int) -> Result:
    """Migrate and seed ``url``, then run every measurement on it."""
    t0 = time.perf_counter()
    await migrate.upgrade(url)
    is_pg = url.startswith("postgresql")
    # Four workers of ten concurrent deliveries each, plus their claims: up to 44 connections.
    engine = make_engine(url, pool_size=20, max_overflow=30) if is_pg else make_engine(url)
    clock = RunningClock()
    sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock, Policy())

    result = Result()
    try:
        async with uow() as u:
            sender, ct, mri, hl7 = await seed(u, messages, reports)
            await u.commit()
        tomorrow = to_tehran(clock.now()).date() + timedelta(days=1)
        async with AsyncExitStack() as stack:
            chat = await stack.enter_async_context(
                BotApiSandbox([TOKEN], host=HOST, limits=RateLimits.disabled())
            )
            sms = await stack.enter_async_context(
                SmsSandbox(kavenegar_keys=[SMS_KEY], kavenegar_lines=[SMS_SENDER], host=HOST)
            )
            http = await stack.enter_async_context(aiohttp.ClientSession())
            bot = await stack.enter_async_context(
                Bot(TOKEN, base_url=chat.base_url, base_file_url=chat.base_file_url)
            )
            chat_ids = [FIRST_USER + n for n in range(messages)]
            for chat_id in chat_ids:
                chat.create_user(chat_id, "بیمار")
            bench = Bench(
                uow,
                clock,
                chat,
                sms,
                bot,
                http,
                sender,
                Audience("device", ct, tomorrow, tomorrow),
                Audience("device", mri, tomorrow, tomorrow),
                chat_ids,
            )
            result.setup_s = time.perf_counter() - t0
            result.routes[PRODUCTION_PACER] = await deliver(
                bench, route=PRODUCTION_PACER, pacer=_production
            )
            result.routes[OPEN_PACER] = await deliver(bench, route=OPEN_PACER, pacer=_open)
            result.routes[SMS_ROUTE] = await deliver(bench, route=SMS_ROUTE, pacer=_open)
            if is_pg:
                for count in WORKER_COUNTS:
                    result.workers[count] = await deliver(
                        bench, route=OPEN_PACER, pacer=_open, workers=count
                    )
            result.intake = await intake(bench, hl7)
    finally:
        await engine.dispose()
    return result


def _production(bench: Bench) -> SendBudget:
    limits = SendLimits()
    bucket = Bucket(limits.per_second, limits.per_second)
    return SendBudget(limits, DbLedger(bench.uow, "telegram:bench", bucket))


def _open(_bench: Bench) -> SendBudget:
    return SendBudget(SendLimits(per_second=10_000, per_chat=0))


# --- tables --------------------------------------------------------------------------------


def _x(value: float, base: float) -> str:
    return f"{value / base:>8.2f}x" if base else f"{'-':>9}"


def delivery_table(name: str, routes: dict[str, Delivery]) -> Iterator[str]:
    base = next(iter(routes.values()))
    yield (
        f"{name:<50}{'msg/s':>8}{'x base':>9}{'p50 ms':>9}{'x base':>9}"
        f"{'p95 ms':>9}{'x base':>9}{'sent/rows':>11}{'dup':>5}"
    )
    for route, d in routes.items():
        yield (
            f"{route:<50}{d.per_s:>8.1f}{_x(d.per_s, base.per_s)}"
            f"{d.p50:>9.0f}{_x(d.p50, base.p50)}"
            f"{d.p95:>9.0f}{_x(d.p95, base.p95)}{f'{d.sent}/{d.rows}':>11}{d.duplicates:>5}"
        )


def workers_table(workers: dict[int, Delivery]) -> Iterator[str]:
    base = workers[min(workers)]
    yield (
        f"{'workers':<10}{'msg/s':>8}{'x 1 worker':>12}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'rows':>7}{'sent':>7}{'sandbox deliveries':>20}{'sent twice':>12}"
    )
    for count, d in workers.items():
        yield (
            f"{count:<10}{d.per_s:>8.1f}{_x(d.per_s, base.per_s):>12}{d.p50:>9.0f}{d.p95:>9.0f}"
            f"{d.rows:>7}{d.sent:>7}{d.deliveries:>20}{d.duplicates:>12}"
        )


def intake_table(results: dict[str, Result]) -> Iterator[str]:
    names = list(results)
    yield f"{'measure':<34}" + "".join(f"{n:>12}" for n in names) + f"{'pg/sqlite':>11}"
    rows: list[tuple[str, Callable[[Intake], float], str]] = [
        ("reports/s (sequential, one conn)", lambda i: i.per_s, ".1f"),
        ("ACK latency p50 (ms)", lambda i: _ms(i.latencies_ms, 0.50), ".1f"),
        ("ACK latency p95 (ms)", lambda i: _ms(i.latencies_ms, 0.95), ".1f"),
        ("ACKs AA", lambda i: float(i.acks.get("AA", 0)), ".0f"),
        ("reports now final", lambda i: float(i.final_reports), ".0f"),
    ]
    for label, get, fmt in rows:
        values = [get(r.intake) for r in results.values()]
        ratio = _x(values[1], values[0]) if len(values) > 1 else ""
        yield f"{label:<34}" + "".join(f"{v:>12{fmt}}" for v in values) + ratio
    for name, r in results.items():
        other = {k: v for k, v in r.intake.acks.items() if k != "AA"}
        if other:
            yield f"{name}: ACKs other than AA: {other}"


def report(results: dict[str, Result], messages: int, reports: int) -> str:
    cpus = os.cpu_count()
    lines = [
        f"bench_notifier: {cpus} CPUs, {messages} broadcast rows per delivery run, "
        f"{reports} HL7 reports, worker batch {BATCH} x concurrency {CONCURRENCY}, "
        f"everything on {HOST}; setup (migrate, seed, bulk patients): "
        + ", ".join(f"{n} {r.setup_s:.1f}s" for n, r in results.items()),
        "",
        "1. Outbox delivery, one worker (baseline: the first row of each backend; latency is "
        "due->sent)",
    ]
    for name, r in results.items():
        lines += [*delivery_table(name, r.routes), ""]
    if len(results) > 1:
        sq, pg = results["sqlite"].routes, results["postgresql"].routes
        lines.append(
            "postgresql/sqlite msg/s: "
            + ", ".join(
                f"{_short(route)} {_x(pg[route].per_s, sq[route].per_s).strip()}" for route in sq
            )
        )
        lines.append("")
    paced = [r.routes[PRODUCTION_PACER].per_s for r in results.values()]
    opened = [r.routes[OPEN_PACER].per_s for r in results.values()]
    lines.append(
        f"With the production send budget delivery runs at "
        f"{min(paced):.1f}-{max(paced):.1f} msg/s: "
        f"the platform limit (30/s per bot) is the bottleneck, not the worker, whose own "
        f"ceiling here is {min(opened):.0f}-{max(opened):.0f} msg/s."
    )
    pg_result = results.get("postgresql")
    if pg_result is not None and pg_result.workers:
        lines += [
            "",
            "2. PostgreSQL: workers on one queue (asyncio tasks in one process, budget opened)",
            *workers_table(pg_result.workers),
        ]
        twice = sum(d.duplicates for d in pg_result.workers.values())
        extra = sum(d.deliveries - d.sent for d in pg_result.workers.values())
        lines.append(
            "no message sent twice"
            if twice == 0 and extra == 0
            else f"WARNING: {twice} duplicate deliveries, {extra} deliveries beyond the sent rows"
        )
    lines += [
        "",
        f"3. HL7 intake: {reports} ORU^R01 final reports over one MLLP connection "
        "(request, ACK, next)",
        *intake_table(results),
    ]
    return "\n".join(lines)


def _short(route: str) -> str:
    return {PRODUCTION_PACER: "telegram paced", OPEN_PACER: "telegram opened"}.get(route, "sms")


async def main(messages: int, reports: int) -> None:
    """Run on SQLite and, when reachable, PostgreSQL; print the tables."""
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await run_backend(
            f"sqlite+aiosqlite:///{Path(tmp) / 'n.db'}", messages, reports
        )
    name = f"radyar_bench_notifier_{os.getpid()}"
    pg = await create_pg_database(name)
    if pg is not None:
        try:
            results["postgresql"] = await run_backend(pg, messages, reports)
        finally:
            await drop_pg_database(name)
    else:
        print("PostgreSQL not reachable on 127.0.0.1:5432: SQLite only")
    print(report(results, messages, reports))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=None, help="rows per delivery run (500)")
    parser.add_argument("--reports", type=int, default=None, help="HL7 reports (200)")
    parser.add_argument("--quick", action="store_true", help="100 rows and 50 reports")
    args = parser.parse_args()
    quick = args.quick
    asyncio.run(
        main(
            args.messages or (100 if quick else 500),
            args.reports or (50 if quick else 200),
        )
    )
