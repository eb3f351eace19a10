"""The bot under load: patients register and book through a real ``radyar run`` process over the
Bot API sandbox, beside a bare python-telegram-bot echo bot answering as many updates from as
many users on the same sandbox, in one run.

Run: ``.venv/bin/python -m bench.bench_bot [--patients 50] [--database sqlite|postgresql]
[--baseline CHECKOUT]``. With ``--baseline`` (another checkout of Radyar with its own ``.venv``,
e.g. ``git worktree add /tmp/base 45b991b && (cd /tmp/base && ./run.sh radyar --help)``) that
version's ``radyar run`` goes through the same loads in the same run: the before and after.

Each user taps with no think time; a tap is timed from the moment the sandbox queues the update
to the bot's first message or edit in that chat. CPU per update is the bot process's user and
system time over the updates it was sent. The sandbox has no flood control here (both bots are
measured on the same terms). The goals of issue 9 are printed beside the figures, never
asserted: throughput at least 25% of the echo bot's, p99 at most 8× the echo bot's, a flooding
account leaving the others' p99 within 2× and every patient booked, one patient's tap answered
in at most 30 ms p50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import tempfile
import time
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.botload import Rider, Stalled, calibrate, echo_user, flood, patient_books, percentile
from bench.pg import create_pg_database, drop_pg_database
from sandbox.botapi import BotApiSandbox, RateLimits

RADYAR_TOKEN = "424242:RADYAR-BENCH"
BASELINE_TOKEN = "454545:BASELINE-BENCH"
ECHO_TOKEN = "434343:ECHO-BENCH"
TAPS = 15  # a patient's registration and booking; each echo user sends as many texts
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """One load: every tap's time to its answer, the wall time, the bot's CPU."""

    taps: list[float]
    wall: float
    cpu: float
    updates: int
    done: int
    users: int
    note: str = ""
    by_step: dict[str, list[float]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Answered updates per second."""
        return len(self.taps) / self.wall if self.wall else 0.0

    def ms(self, q: float) -> float:
        """The ``q`` quantile of the taps, in milliseconds."""
        return percentile(self.taps, q) * 1000

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per update the bot was sent."""
        return self.cpu * 1000 / self.updates if self.updates else 0.0


class Bench:
    """One sandbox, the bot process under test, and fresh users for every load."""

    def __init__(self, sandbox: BotApiSandbox) -> None:
        self.sandbox = sandbox
        self.next_user = 910_000_000
        self.next_patient = 0
        self.expected: dict[str, int] = {}
        self.pid = 0
        self.flood_rate = 100.0

    def riders(self, token: str, count: int) -> list[Rider]:
        """``count`` new users of the bot with ``token``."""
        riders = []
        for _ in range(count):
            self.next_user += 1
            uid = self.next_user
            self.sandbox.create_user(uid, "بیمار", phone_number=f"98912{uid % 10**7:07d}")
            riders.append(Rider(self.sandbox, token, uid, dict(self.expected), timeout=60.0))
        return riders

    def patient(self) -> int:
        """A patient number never used before in this run."""
        self.next_patient += 1
        return self.next_patient

    async def measure(
        self, riders: list[Rider], run: Callable[[Rider], Awaitable[bool]], extra: int = 0
    ) -> Result:
        """Run every rider at once; ``extra`` updates were sent besides their taps."""
        cpu0, t0 = cpu_seconds(self.pid), time.perf_counter()

        async def one(rider: Rider) -> bool:
            try:
                return await run(rider)
            except Stalled:
                return False

        done = await asyncio.gather(*(one(r) for r in riders))
        wall, cpu = time.perf_counter() - t0, cpu_seconds(self.pid) - cpu0
        taps = [t for r in riders for t in r.taps]
        by_step: dict[str, list[float]] = {}
        for rider in riders:
            for step, tap in zip(rider.steps, rider.taps, strict=True):
                by_step.setdefault(step, []).append(tap)
        return Result(taps, wall, cpu, len(taps) + extra, sum(done), len(riders), "", by_step)


@contextlib.asynccontextmanager
async def process(args: list[str], env: dict[str, str]) -> AsyncIterator[Process]:
    """A child process, stopped with SIGTERM (then killed) on the way out, while this loop
    keeps serving the sandbox it talks to (its last getUpdates gets its answer)."""
    child = await asyncio.create_subprocess_exec(*args, env=env, stdin=asyncio.subprocess.DEVNULL)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), 20)
        except TimeoutError:
            child.kill()
            await child.wait()


async def until_polling(sandbox: BotApiSandbox, token: str, child: Process) -> None:
    """Wait for the bot's first getUpdates (it has started)."""
    for _ in range(600):
        if sandbox.request_counts(token=token).get("getUpdates", 0) > 0:
            return
        if child.returncode is not None:
            raise SystemExit(f"the bot exited with status {child.returncode}")
        await asyncio.sleep(0.05)
    raise SystemExit("the bot did not start polling in 30 s")


@dataclass(frozen=True)
class Target:
    """A ``radyar`` to load: its label, executable, bot token and database."""

    label: str
    radyar: Path
    token: str
    database_url: str | None


def radyar_env(sandbox: BotApiSandbox, data: Path, target: Target) -> dict[str, str]:
    """``radyar run`` against the sandbox, the demo department, nothing else listening."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")}
    env.update(
        RADYAR_DATA_DIR=str(data),
        RADYAR_TELEGRAM_TOKEN=target.token,
        RADYAR_BOT_API_URL=sandbox.base_url,
        RADYAR_BOT_FILE_URL=sandbox.base_file_url,
        RADYAR_HTTP_PORT=str(_free_port()),
        RADYAR_MLLP_PORT="0",
        RADYAR_LOG_LEVEL="WARNING",
        RADYAR_SMS_PROVIDER="log",
    )
    if target.database_url:
        env["RADYAR_DATABASE_URL"] = target.database_url
    return env


async def radyar_loads(
    bench: Bench, target: Target, env: dict[str, str], patients: int
) -> dict[str, Result]:
    """One patient, ``patients`` at once, ten alone and ten beside a flooding account."""
    radyar, token = str(target.radyar), target.token
    for command in (["db", "upgrade"], ["seed", "--demo"]):
        seeding = await asyncio.create_subprocess_exec(
            radyar, *command, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        if await seeding.wait() != 0:
            raise SystemExit(f"radyar {' '.join(command)} failed")
    rng = random.Random(9)

    async def book(rider: Rider) -> bool:
        return await patient_books(rider, bench.patient(), rng)

    results: dict[str, Result] = {}
    async with process([radyar, "run"], env) as child:
        bench.pid = child.pid
        await until_polling(bench.sandbox, token, child)
        # Two slow walks: on a cold process an answer may come after the first walk's pause,
        # and a step counted short would leave every rider waiting at the next one.
        walks = [await calibrate(bench.riders(token, 1)[0], book) for _ in range(2)]
        bench.expected = {step: max(w.get(step, 0) for w in walks) for step in walks[0]}
        results["one"] = await bench.measure(bench.riders(token, 1), book)
        results["crowd"] = await bench.measure(bench.riders(token, patients), book)
        results["ten"] = await bench.measure(bench.riders(token, 10), book)
        flooder = bench.riders(token, 1)[0]
        stop = asyncio.Event()
        flooding = asyncio.create_task(
            flood(bench.sandbox, token, flooder.user_id, stop, bench.flood_rate)
        )
        try:
            ten = bench.riders(token, 10)
            results["flood"] = await bench.measure(ten, book)
        finally:
            stop.set()
        sent = await flooding
        results["flood"].updates += sent
        results["flood"].note = f"the flooding account sent {sent} texts"
    return results


async def echo_loads(bench: Bench, patients: int) -> dict[str, Result]:
    """The echo bot: one user and ``patients`` users, each sending as many texts as a patient
    taps."""
    args = [sys.executable, "-m", "bench.echo_bot", ECHO_TOKEN, bench.sandbox.base_url]
    env = dict(os.environ)

    async def talk(rider: Rider) -> bool:
        await echo_user(rider, TAPS)
        return True

    async with process(args, env) as child:
        bench.pid = child.pid
        bench.expected = {}
        await until_polling(bench.sandbox, ECHO_TOKEN, child)
        await bench.measure(bench.riders(ECHO_TOKEN, 1), talk)  # warm-up
        return {
            "one": await bench.measure(bench.riders(ECHO_TOKEN, 1), talk),
            "crowd": await bench.measure(bench.riders(ECHO_TOKEN, patients), talk),
        }


def table(loads: dict[str, dict[str, Result]], echo: dict[str, Result], patients: int) -> str:
    """The printed comparison, with the goals beside the figures (for the first target)."""
    head = f"{'load':<34}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/upd':>11}{'done':>8}"
    lines = [head, "-" * len(head)]

    def row(label: str, r: Result) -> None:
        lines.append(
            f"{label:<34}{r.rate:>10.1f}{r.ms(0.5):>9.1f}{r.ms(0.99):>9.1f}"
            f"{r.cpu_ms:>11.2f}{f'{r.done}/{r.users}':>8}"
        )

    for label, results in loads.items():
        row(f"{label}: one patient", results["one"])
        row(f"{label}: {patients} patients at once", results["crowd"])
        row(f"{label}: 10 patients", results["ten"])
        row(f"{label}: 10 patients + a flood", results["flood"])
    ours = next(iter(loads.values()))
    row("echo bot: one user", echo["one"])
    row(f"echo bot: {patients} users at once", echo["crowd"])
    crowd, base = ours["crowd"], echo["crowd"]
    flood_ratio = ours["flood"].ms(0.99) / ours["ten"].ms(0.99) if ours["ten"].taps else 0
    checks = [
        ("throughput vs echo (goal >= 0.25)", crowd.rate / base.rate if base.rate else 0),
        ("p99 vs echo (goal <= 8)", crowd.ms(0.99) / base.ms(0.99) if base.taps else 0),
        ("flood p99 vs 10 alone (goal <= 2)", flood_ratio),
        ("CPU per update vs echo", crowd.cpu_ms / base.cpu_ms if base.cpu_ms else 0),
    ]
    lines.append("")
    lines += [f"{label:<40}{value:>8.2f}" for label, value in checks]
    booked = ours["flood"]
    lines.append(f"{'booked beside the flood (goal 10/10)':<40}{booked.done:>5}/{booked.users}")
    lines.append(f"{'one patient p50 ms (goal <= 30)':<40}{ours['one'].ms(0.5):>8.1f}")
    lines.append(ours["flood"].note)
    if "before" in loads:
        before = loads["before"]["crowd"]
        cpu = crowd.cpu_ms / before.cpu_ms if before.cpu_ms else 0
        lines.append(f"{'CPU per update, now vs before':<40}{cpu:>8.2f}")
        rate = crowd.rate / before.rate if before.rate else 0
        lines.append(f"{'throughput, now vs before':<40}{rate:>8.2f}")
    lines.append(f"\nRadyar, {patients} patients at once, by step (p50 / p99 ms):")
    for step, taps in crowd.by_step.items():
        p50, p99 = percentile(taps, 0.5) * 1000, percentile(taps, 0.99) * 1000
        lines.append(f"  {step:<10}{p50:>9.1f}{p99:>9.1f}")
    return "\n".join(lines)


async def _targets(database: str, baseline: Path | None) -> list[Target]:
    found = [("Radyar", BIN / "radyar", RADYAR_TOKEN, "radyar_bench_bot")]
    if baseline is not None:
        before = baseline / ".venv/bin/radyar"
        found.append(("before", before, BASELINE_TOKEN, "radyar_bench_base"))
    targets = []
    for label, radyar, token, name in found:
        url = None
        if database == "postgresql":
            url = await create_pg_database(name)
            if url is None:
                raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
        targets.append(Target(label, radyar, token, url))
    return targets


async def main(patients: int, database: str, flood_rate: float, baseline: Path | None) -> None:
    """Every target and the echo bot, one sandbox, one run; print the table."""
    targets = await _targets(database, baseline)
    loads: dict[str, dict[str, Result]] = {}
    try:
        tokens = [t.token for t in targets] + [ECHO_TOKEN]
        async with BotApiSandbox(tokens, limits=RateLimits.disabled()) as sandbox:
            bench = Bench(sandbox)
            bench.flood_rate = flood_rate
            for target in targets:
                with tempfile.TemporaryDirectory() as tmp:
                    env = radyar_env(sandbox, Path(tmp), target)
                    loads[target.label] = await radyar_loads(bench, target, env, patients)
            echo = await echo_loads(bench, patients)
    finally:
        for target in targets:
            if target.database_url is not None:
                await drop_pg_database(target.database_url.rsplit("/", 1)[1])
    print(f"\nbench_bot: {patients} patients, {database}, {os.cpu_count()} cores\n")
    print(table(loads, echo, patients))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--flood-rate", type=float, default=100.0, help="texts per second, flooding"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout (with .venv) to load in the same run"
    )
    options = parser.parse_args()
    asyncio.run(main(options.patients, options.database, options.flood_rate, options.baseline))
