"""The bot under load: patients register and book through a real ``radyar run`` process over the
Bot API sandbox, beside a bare python-telegram-bot echo bot answering as many updates from as
many users on the same sandbox, in one run.

Run: ``.venv/bin/python -m bench.bench_bot [--patients 50] [--database sqlite|postgresql]
[--baseline CHECKOUT]``. With ``--baseline`` (another checkout of Radyar with its own ``.venv``,
e.g. ``git worktree add /tmp/base 45b991b && (cd /tmp/base && ./run.sh radyar --help)``) that
version's ``radyar run`` goes through the same loads in the same run: the before and after.

All bots run side by side and the loads come in rounds (``--rounds``, default 3), each round
visiting every bot in turn in a rotating order; the ratios are taken within each round and their
median printed, so a machine whose speed drifts during the run (a shared virtual machine's can
by 2x within minutes) compares like with like.

Each user taps with no think time; a tap is timed from the moment the sandbox queues the update
to the bot's first message or edit in that chat. The one-time code of registration goes from
the bot's outbox worker to the SMS gateway sandbox (Kavenegar's API, in this process, quiet
hours off); the patient waits for it, then types it (the "otp" tap). That wait is no tap: its
median is printed apart, as the code's arrival after the national code, and updates/s leaves
out the time in which every patient of a load was waiting for their code (no update was
coming; the bot's CPU in it still counts). An echo user sends as
many texts as the first bot's patient taps (learnt in its calibration walk: 16 with the code,
15 without). CPU per update is the bot process's user and
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.botload import Rider, Stalled, calibrate, echo_user, flood, patient_books, percentile
from bench.pg import create_pg_database, drop_pg_database
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox

if TYPE_CHECKING:
    from asyncio.subprocess import Process
    from collections.abc import AsyncIterator, Awaitable, Callable

RADYAR_TOKEN = "424242:RADYAR-BENCH"
BASELINE_TOKEN = "454545:BASELINE-BENCH"
ECHO_TOKEN = "434343:ECHO-BENCH"
SMS_KEY = "kv-radyar-bench-bot"
SMS_LINE = "10004346"  # the SMS sandbox's Kavenegar line
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
    # One-time codes (not taps): from the national code's tap to the SMS at the gateway, and
    # the part of it the patient waited after the bot's answer.
    sms_arrivals: list[float] = field(default_factory=list)
    sms_waits: list[float] = field(default_factory=list)
    idle: float = 0.0  # seconds of ``wall`` in which every user still walking awaited an SMS

    @property
    def rate(self) -> float:
        """Answered updates per second of the time the bot was offered any (the time every
        patient was waiting for their SMS code is left out: no update was coming)."""
        busy = self.wall - self.idle
        return len(self.taps) / busy if busy > 0 else 0.0

    def ms(self, q: float) -> float:
        """The ``q`` quantile of the taps, in milliseconds."""
        return percentile(self.taps, q) * 1000

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per update the bot was sent."""
        return self.cpu * 1000 / self.updates if self.updates else 0.0


class Bench:
    """The sandboxes (Bot API, SMS), the bot process under test, and fresh users for every
    load."""

    def __init__(self, sandbox: BotApiSandbox, sms: SmsSandbox) -> None:
        self.sandbox = sandbox
        self.sms = sms
        self.next_user = 910_000_000
        self.next_patient = 0
        self.expected: dict[str, dict[str, int]] = {}  # by token: answers per step
        self.flood_rate = 100.0

    def riders(self, token: str, count: int) -> list[Rider]:
        """``count`` new users of the bot with ``token``."""
        riders = []
        for _ in range(count):
            self.next_user += 1
            uid = self.next_user
            digits = f"912{uid % 10**7:07d}"  # shared as 98…, filed by the SMS sandbox as 09…
            self.sandbox.create_user(uid, "بیمار", phone_number=f"98{digits}")
            expected = dict(self.expected.get(token, {}))
            rider = Rider(self.sandbox, token, uid, expected, timeout=60.0)
            rider.sms, rider.mobile = self.sms, f"0{digits}"
            riders.append(rider)
        return riders

    def patient(self) -> int:
        """A patient number never used before in this run."""
        self.next_patient += 1
        return self.next_patient

    async def measure(self, bot: Running, riders: list[Rider]) -> Result:
        """Take every rider through ``bot`` at once."""
        cpu0, t0 = cpu_seconds(bot.pid), time.perf_counter()
        walking: list[tuple[float, float]] = []  # each rider's walk, minus its SMS waits

        async def one(rider: Rider) -> bool:
            try:
                return await bot.run(rider)
            except Stalled:
                return False
            finally:
                begin = t0
                for start, end in rider.sms_spans:
                    walking.append((begin, start))
                    begin = end
                walking.append((begin, time.perf_counter()))

        done = await asyncio.gather(*(one(r) for r in riders))
        wall, cpu = time.perf_counter() - t0, cpu_seconds(bot.pid) - cpu0
        idle = max(0.0, wall - covered(walking))
        taps = [t for r in riders for t in r.taps]
        by_step: dict[str, list[float]] = {}
        for rider in riders:
            for step, tap in zip(rider.steps, rider.taps, strict=True):
                by_step.setdefault(step, []).append(tap)
        arrivals = [a for r in riders for a in r.sms_arrivals]
        waits = [w for r in riders for w in r.sms_waits]
        return Result(
            taps, wall, cpu, len(taps), sum(done), len(riders), "", by_step, arrivals, waits, idle
        )


def covered(spans: list[tuple[float, float]]) -> float:
    """How long at least one of the ``(start, end)`` spans lasts (their union's length)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


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


def radyar_env(
    sandbox: BotApiSandbox, sms: SmsSandbox, data: Path, target: Target
) -> dict[str, str]:
    """``radyar run`` against the sandboxes (SMS by Kavenegar's API, no quiet hours: a run at
    night gets its codes at once), the demo department, nothing else listening."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADYAR_")}
    env.update(
        RADYAR_DATA_DIR=str(data),
        RADYAR_TELEGRAM_TOKEN=target.token,
        RADYAR_BOT_API_URL=sandbox.base_url,
        RADYAR_BOT_FILE_URL=sandbox.base_file_url,
        RADYAR_HTTP_PORT=str(_free_port()),
        RADYAR_MLLP_PORT="0",
        RADYAR_LOG_LEVEL="WARNING",
        RADYAR_SMS_PROVIDER="kavenegar",
        RADYAR_SMS_API_KEY=SMS_KEY,
        RADYAR_SMS_BASE_URL=sms.url,
        RADYAR_SMS_SENDER=SMS_LINE,
        RADYAR_SMS_QUIET_HOURS="off",
    )
    if target.database_url:
        env["RADYAR_DATABASE_URL"] = target.database_url
    return env


async def seed(target: Target, env: dict[str, str]) -> None:
    """``radyar db upgrade`` and ``radyar seed --demo`` on the target's database."""
    for command in (["db", "upgrade"], ["seed", "--demo"]):
        seeding = await asyncio.create_subprocess_exec(
            str(target.radyar), *command, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        if await seeding.wait() != 0:
            raise SystemExit(f"radyar {' '.join(command)} failed")


@dataclass
class Running:
    """A bot process under load: its label, token, pid and how it takes a user through."""

    label: str
    token: str
    pid: int
    run: Callable[[Rider], Awaitable[bool]]
    radyar: bool
    walk: int = 0  # taps in one patient's walk (calibration), or texts an echo user sends


async def radyar_round(bench: Bench, bot: Running, patients: int) -> dict[str, Result]:
    """One patient, ``patients`` at once, ten alone and ten beside a flooding account."""
    results = {
        "one": await bench.measure(bot, bench.riders(bot.token, 1)),
        "crowd": await bench.measure(bot, bench.riders(bot.token, patients)),
        "ten": await bench.measure(bot, bench.riders(bot.token, 10)),
    }
    flooder = bench.riders(bot.token, 1)[0]
    stop = asyncio.Event()
    flooding = asyncio.create_task(
        flood(bench.sandbox, bot.token, flooder.user_id, stop, bench.flood_rate)
    )
    try:
        results["flood"] = await bench.measure(bot, bench.riders(bot.token, 10))
    finally:
        stop.set()
    sent = await flooding
    results["flood"].updates += sent
    results["flood"].note = f"the flooding account sent {sent} texts"
    return results


async def echo_round(bench: Bench, bot: Running, patients: int) -> dict[str, Result]:
    """The echo bot: one user and ``patients`` users, each sending as many texts as a patient
    taps."""
    return {
        "one": await bench.measure(bot, bench.riders(bot.token, 1)),
        "crowd": await bench.measure(bot, bench.riders(bot.token, patients)),
    }


def pooled(results: list[Result]) -> Result:
    """The rounds of one load as one: every tap, the summed wall time, CPU and updates."""
    by_step: dict[str, list[float]] = {}
    for r in results:
        for step, taps in r.by_step.items():
            by_step.setdefault(step, []).extend(taps)
    return Result(
        [t for r in results for t in r.taps],
        sum(r.wall for r in results),
        sum(r.cpu for r in results),
        sum(r.updates for r in results),
        sum(r.done for r in results),
        sum(r.users for r in results),
        "; ".join(r.note for r in results if r.note),
        by_step,
        [a for r in results for a in r.sms_arrivals],
        [w for r in results for w in r.sms_waits],
        sum(r.idle for r in results),
    )


def median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def table(rounds: list[dict[str, dict[str, Result]]], walks: dict[str, int], patients: int) -> str:
    """The printed comparison: every round pooled, and the ratios of each round (taken in that
    round, so the machine's drift between rounds cancels) with their median beside the goals.
    ``walks``: each bot's taps per user, by label, in the order of the table."""
    labels = list(walks)
    loads = {
        label: {load: pooled([r[label][load] for r in rounds]) for load in rounds[0][label]}
        for label in labels
    }
    head = f"{'load':<34}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/upd':>11}{'done':>8}"
    per_user = ", ".join(f"{label} {n}" for label, n in walks.items())
    lines = [f"taps per user (one walk): {per_user}; every figure is per tap", "", head]
    lines.append("-" * len(head))

    def row(label: str, r: Result) -> None:
        lines.append(
            f"{label:<34}{r.rate:>10.1f}{r.ms(0.5):>9.1f}{r.ms(0.99):>9.1f}"
            f"{r.cpu_ms:>11.2f}{f'{r.done}/{r.users}':>8}"
        )

    names = {"one": "one patient", "crowd": f"{patients} patients at once", "ten": "10 patients"}
    names["flood"] = "10 patients + a flood"
    for label, results in loads.items():
        for load, result in results.items():
            who = names[load] if label != "echo bot" else names[load].replace("patient", "user")
            row(f"{label}: {who}", result)

    def ratios(f: Callable[[dict[str, dict[str, Result]]], float]) -> str:
        each = [f(r) for r in rounds]
        return f"{median(each):>8.2f}   ({', '.join(f'{v:.2f}' for v in each)})"

    def ours(r: dict[str, dict[str, Result]]) -> dict[str, Result]:
        return r[labels[0]]

    def before(r: dict[str, dict[str, Result]]) -> Result:
        return r["before"]["crowd"]

    def rate(a: Result, b: Result) -> float:
        return a.rate / b.rate if b.rate else 0.0

    def p99(a: Result, b: Result) -> float:
        return a.ms(0.99) / b.ms(0.99) if b.taps else 0.0

    def cpu(a: Result, b: Result) -> float:
        return a.cpu_ms / b.cpu_ms if b.cpu_ms else 0.0

    echo = "echo bot"
    lines += ["", f"{'ratio, median of the rounds':<40}{'':>8}   (each round)"]
    checks = [
        ("throughput vs echo (goal >= 0.25)", lambda r: rate(ours(r)["crowd"], r[echo]["crowd"])),
        ("p99 vs echo (goal <= 8)", lambda r: p99(ours(r)["crowd"], r[echo]["crowd"])),
        ("flood p99 vs 10 alone (goal <= 2)", lambda r: p99(ours(r)["flood"], ours(r)["ten"])),
        ("CPU per update vs echo", lambda r: cpu(ours(r)["crowd"], r[echo]["crowd"])),
    ]
    if "before" in labels:
        checks += [
            (
                "CPU per update, now vs before",
                lambda r: cpu(ours(r)["crowd"], r["before"]["crowd"]),
            ),
            ("throughput, now vs before", lambda r: rate(ours(r)["crowd"], r["before"]["crowd"])),
        ]
    lines += [f"{label:<40}{ratios(f)}" for label, f in checks]
    mine = loads[labels[0]]
    booked = mine["flood"]
    lines.append(f"{'booked beside the flood (goal all)':<40}{booked.done:>5}/{booked.users}")
    lines.append(f"{'one patient p50 ms (goal <= 30)':<40}{mine['one'].ms(0.5):>8.1f}")
    lines.append(booked.note)
    for label in labels[:-1]:  # the Radyars (the echo bot is last)
        every = pooled(list(loads[label].values()))
        if not every.sms_arrivals:
            lines.append(f"{label}: no one-time code asked (registration without SMS)")
            continue
        arrived = median(every.sms_arrivals) * 1000
        late = percentile(every.sms_arrivals, 0.99) * 1000
        waited = median(every.sms_waits) * 1000
        lines.append(
            f"{label}: {len(every.sms_arrivals)} one-time codes by SMS (not taps), arrived a "
            f"median {arrived:.0f} ms (p99 {late:.0f}) after the national code; the patient "
            f"waited a median {waited:.0f} ms after the bot's answer; updates/s leaves out "
            f"{every.idle:.1f} s of {every.wall:.1f} s in which every patient waited for it"
        )
    lines.append(f"\n{labels[0]}, {patients} patients at once, by step (p50 / p99 ms):")
    for step, taps in mine["crowd"].by_step.items():
        low, high = percentile(taps, 0.5) * 1000, percentile(taps, 0.99) * 1000
        lines.append(f"  {step:<10}{low:>9.1f}{high:>9.1f}")
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


async def start_bots(
    stack: contextlib.AsyncExitStack, bench: Bench, targets: list[Target]
) -> list[Running]:
    """Every target's ``radyar run`` and the echo bot, all polling the one sandbox at once, each
    calibrated (the bots waiting for their turn only long-poll)."""
    rng = random.Random(9)

    async def book(rider: Rider) -> bool:
        return await patient_books(rider, bench.patient(), rng)

    bots: list[Running] = []

    async def talk(rider: Rider) -> bool:
        await echo_user(rider, bots[0].walk)  # as many texts as the first bot's patient taps
        return True

    for target in targets:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        env = radyar_env(bench.sandbox, bench.sms, Path(tmp), target)
        await seed(target, env)
        child = await stack.enter_async_context(process([str(target.radyar), "run"], env))
        await until_polling(bench.sandbox, target.token, child)
        # Two slow walks: on a cold process an answer may come after the first walk's pause,
        # and a step counted short would leave every rider waiting at the next one.
        walkers = bench.riders(target.token, 2)
        walks = [await calibrate(walker, book) for walker in walkers]
        bench.expected[target.token] = {s: max(w.get(s, 0) for w in walks) for s in walks[0]}
        taps = max(len(walker.taps) for walker in walkers)  # 16 with the one-time code
        bots.append(Running(target.label, target.token, child.pid, book, radyar=True, walk=taps))
    args = [sys.executable, "-m", "bench.echo_bot", ECHO_TOKEN, bench.sandbox.base_url]
    child = await stack.enter_async_context(process(args, dict(os.environ)))
    await until_polling(bench.sandbox, ECHO_TOKEN, child)
    echo = Running("echo bot", ECHO_TOKEN, child.pid, talk, radyar=False, walk=bots[0].walk)
    await bench.measure(echo, bench.riders(ECHO_TOKEN, 1))  # warm-up
    return [*bots, echo]


async def main(
    patients: int, database: str, flood_rate: float, baseline: Path | None, rounds: int
) -> None:
    """Every target and the echo bot, one sandbox, one run, the loads taken in rounds that
    visit every bot in turn (a rotating order); print the table."""
    targets = await _targets(database, baseline)
    results: list[dict[str, dict[str, Result]]] = []
    try:
        tokens = [t.token for t in targets] + [ECHO_TOKEN]
        async with (
            BotApiSandbox(tokens, limits=RateLimits.disabled()) as sandbox,
            SmsSandbox(kavenegar_keys=[SMS_KEY], kavenegar_lines=[SMS_LINE]) as sms,
            contextlib.AsyncExitStack() as stack,
        ):
            bench = Bench(sandbox, sms)
            bench.flood_rate = flood_rate
            bots = await start_bots(stack, bench, targets)
            for n in range(rounds):
                this: dict[str, dict[str, Result]] = {}
                for bot in bots[n % len(bots) :] + bots[: n % len(bots)]:
                    load = radyar_round if bot.radyar else echo_round
                    this[bot.label] = await load(bench, bot, patients)
                results.append(this)
    finally:
        for target in targets:
            if target.database_url is not None:
                await drop_pg_database(target.database_url.rsplit("/", 1)[1])
    print(
        f"\nbench_bot: {patients} patients, {database}, {rounds} rounds, {os.cpu_count()} cores\n"
    )
    print(table(results, {b.label: b.walk for b in bots}, patients))


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
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every load on every bot")
    options = parser.parse_args()
    asyncio.run(
        main(
            options.patients,
            options.database,
            options.flood_rate,
            options.baseline,
            options.rounds,
        )
    )
