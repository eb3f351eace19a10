"""``radyar broadcast``: drafted as a staff member, confirmed, queued, followed to the end."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Select, func, select
from telegram import Bot

from clinic.clock import SystemClock
from clinic.db import make_engine, make_sessionmaker
from clinic.jalali import jalali_iso, tehran_datetime, to_tehran
from clinic.models import AuditEntry, Broadcast, OutboxMessage, Platform
from clinic.policy import Department, Policy
from clinic.text import to_persian_digits
from clinic.uow import UnitOfWork
from notifier.budget import SendBudget, SendLimits
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.sms.log import LogSms
from radyar.cli import main
from sandbox.botapi import BotApiSandbox, RateLimits
from tests.bulk import FIRST_USER, add_booked_patients
from tests.conftest import create_pg_database, drop_pg_database, require_pg_sync

TOKEN = "876543:BROADCAST-CLI"
IN_RANGE, LATER = 30, 10  # patients booked on CT-1 on the chosen day, and a week after it
SCRIPT = str(Path(sys.executable).with_name("radyar"))
PROGRESS = re.compile(r"\[([#-]{20})\] (\d+)/(\d+)  sent (\d+)  failed (\d+)  queued (\d+)")
Run = Callable[..., tuple[int, str, str]]


class BackgroundWorker:
    """An outbox worker in its own thread and event loop, chat over a Bot API sandbox."""

    def __init__(self, url: str, chat_ids: Sequence[int]) -> None:
        self._url, self._chat_ids = url, chat_ids
        self._stop, self._ready = threading.Event(), threading.Event()
        self._running, self._idle = threading.Event(), threading.Event()
        self._running.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sandbox: BotApiSandbox | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> BackgroundWorker:
        self._thread.start()
        assert self._ready.wait(30), "the background worker did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def pause(self) -> None:
        """Return once the worker has finished its round and claims nothing more."""
        self._idle.clear()
        self._running.clear()
        assert self._idle.wait(30)

    def resume(self) -> None:
        self._running.set()

    def received(self, chat_id: int, text: str) -> int:
        """How many messages holding ``text`` the chat got (read on the worker's loop)."""

        async def count() -> int:
            assert self._sandbox is not None
            return sum(text in (m.text or "") for m in self._sandbox.messages_to(chat_id))

        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(count(), self._loop).result(10)

    async def _main(self) -> None:
        engine = make_engine(self._url)
        sessionmaker = make_sessionmaker(engine)
        try:
            async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as chat:
                for chat_id in self._chat_ids:
                    chat.create_user(chat_id, "بیمار")
                bot = Bot(TOKEN, base_url=chat.base_url, base_file_url=chat.base_file_url)
                async with bot:
                    fast = SendBudget(SendLimits(per_second=1000, per_chat=0))
                    channels = Channels(
                        chat={Platform.TELEGRAM: ChatChannel("telegram", bot, fast)},
                        sms=SmsChannel(LogSms()),
                    )
                    worker = Worker(
                        lambda: UnitOfWork(sessionmaker, SystemClock(), Policy()),
                        channels,
                        Department(),
                    )
                    self._loop, self._sandbox = asyncio.get_running_loop(), chat
                    self._ready.set()
                    await self._work(worker)
        finally:
            await engine.dispose()

    async def _work(self, worker: Worker) -> None:
        while not self._stop.is_set():
            if not self._running.is_set():
                self._idle.set()
                await asyncio.sleep(0.02)
                continue
            if await worker.run_once() == 0:
                await asyncio.sleep(0.05)


class Clinic:
    """The PostgreSQL database the module shares, its booking day, and the worker."""

    def __init__(self, url: str, day: datetime, worker: BackgroundWorker) -> None:
        self.url, self.day, self.worker = url, day, worker

    def count(self, stmt: Select[tuple[int]]) -> int:
        """The number a ``select(func.count())`` gives now."""

        async def run() -> int:
            engine = make_engine(self.url)
            try:
                async with engine.connect() as conn:
                    return int((await conn.execute(stmt)).scalar_one())
            finally:
                await engine.dispose()

        return asyncio.run(run())


async def _fill(url: str, day: datetime) -> None:
    engine = make_engine(url)
    try:
        uow = UnitOfWork(make_sessionmaker(engine), SystemClock(), Policy())
        async with uow:
            await add_booked_patients(uow, IN_RANGE, first=0, starts_at=day)
            later = day + timedelta(days=7)
            await add_booked_patients(uow, LATER, first=IN_RANGE, starts_at=later)
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def clinic() -> Iterator[Clinic]:
    """The demo department on PostgreSQL, 40 booked patients with Telegram, a worker running."""
    require_pg_sync()
    name = f"radyar_broadcast_cli_{os.getpid()}"
    url = asyncio.run(create_pg_database(name))
    try:
        env = os.environ | {"RADYAR_DATABASE_URL": url}
        for args in (["db", "upgrade"], ["seed", "--demo"]):
            subprocess.run([SCRIPT, *args], env=env, check=True, capture_output=True, timeout=120)
        today = to_tehran(SystemClock().now()).date()
        day = tehran_datetime(today + timedelta(days=3), datetime.min.time()) + timedelta(hours=10)
        asyncio.run(_fill(url, day))
        chats = [FIRST_USER + n for n in range(IN_RANGE + LATER)]
        with BackgroundWorker(url, chats) as worker:
            yield Clinic(url, day, worker)
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture
def radyar(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``radyar ARGS`` in-process on the module's database; (status, stdout, stderr)."""
    monkeypatch.setenv("RADYAR_DATABASE_URL", clinic.url)
    monkeypatch.setenv("RADYAR_LANG", "en")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # input waiting, but no terminal

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def _broadcaster(radyar: Run) -> str:
    status, out, _ = radyar("staff", "add", "--name", "مریم کاظمی", "--roles", "broadcaster")
    assert status == 0
    found = re.search(r"staff member (\d+) added", out)
    assert found is not None
    return found[1]


def _broadcast_id(out: str) -> int:
    found = re.search(r"broadcast (\d+) queued", out)
    assert found is not None, out
    return int(found[1])


@pytest.mark.pg
def test_send_follows_the_worker_to_the_last_message(radyar: Run, clinic: Clinic) -> None:
    staff = _broadcaster(radyar)
    first = jalali_iso(clinic.day.date())
    last = jalali_iso(clinic.day.date() + timedelta(days=1))
    text = "بیماران گرامی: دستگاه سی‌تی فردا از ساعت ۱۰ کار می‌کند؛ لطفاً به موقع بیایید."
    status, out, err = radyar(
        "broadcast", "send", "--staff", to_persian_digits(staff), "--text", text,
        "--audience", "device", "--device", "ct-1",
        "--from", to_persian_digits(first), "--to", last, "--yes",
    )  # fmt: skip
    assert status == 0, err
    assert f"{IN_RANGE} recipients (patients booked on CT-1 from {first} to {last})" in out
    broadcast_id = _broadcast_id(out)
    lines = [m.groups() for m in PROGRESS.finditer(out)]
    assert lines, out
    assert lines[-1] == ("#" * 20, "30", "30", "30", "0", "0")
    done = [int(line[1]) for line in lines]
    assert done == sorted(done)  # a line only when the numbers move, and they only grow
    assert f"broadcast {broadcast_id} done: 30 sent, 0 failed, 0 cancelled" in out
    for n in range(IN_RANGE + LATER):
        assert clinic.worker.received(FIRST_USER + n, text) == (1 if n < IN_RANGE else 0)
    audited = clinic.count(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "broadcast.send",
            AuditEntry.entity_id == broadcast_id,
            AuditEntry.actor_kind == "staff",
            AuditEntry.actor_id == int(staff),
        )
    )
    assert audited == 1

    status, out, _ = radyar("broadcast", "status", to_persian_digits(str(broadcast_id)))
    assert status == 0
    assert f"by staff member {staff} to patients booked on CT-1" in out
    assert "total 30  sent 30  failed 0  cancelled 0  queued 0" in out
    status, out, _ = radyar("broadcast", "list")
    assert status == 0
    row = next(line for line in out.splitlines() if line.split()[0] == str(broadcast_id))
    assert re.search(r" 14\d\d/\d\d/\d\d \d\d:\d\d +queued +device +30 +30 +0 ", row), row
    assert row.endswith("  " + text[:39] + "…")  # the text's first 40 characters at most


@pytest.mark.pg
def test_without_yes_it_asks_and_without_a_terminal_it_refuses(
    radyar: Run, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = _broadcaster(radyar)
    drafts_before = clinic.count(select(func.count()).select_from(Broadcast))
    rows_before = clinic.count(select(func.count()).select_from(OutboxMessage))
    status, out, err = radyar(
        "broadcast", "send", "--staff", staff, "--text", "x", "--audience", "future"
    )
    assert status == 2
    assert f"{IN_RANGE + LATER} recipients (patients with an upcoming appointment)" in out
    assert "standard input is not a terminal" in err
    assert "--yes" in err
    assert clinic.count(select(func.count()).select_from(OutboxMessage)) == rows_before
    assert clinic.count(select(func.count()).select_from(Broadcast)) == drafts_before + 1

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    status, out, _ = radyar(
        "broadcast", "send", "--staff", staff, "--text", "نه", "--audience", "health-workers"
    )
    assert status == 0
    assert "Send this message to 1 recipient? [y/N]" in out
    assert "was not sent (it stays a draft)" in out
    assert clinic.count(select(func.count()).select_from(OutboxMessage)) == rows_before
    monkeypatch.setattr(sys, "stdin", Terminal("بله\n"))
    status, out, _ = radyar(
        "broadcast", "send", "--staff", staff, "--text", "بله", "--audience", "health-workers",
        "--no-wait",
    )  # fmt: skip
    assert status == 0
    assert "queued: 1 message" in out
    assert "radyar broadcast status" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "9999"], "there is no broadcast 9999"),
        (["status", "seven"], "must be a whole number"),
        (
            ["send", "--staff", "1", "--text", "x", "--audience", "device", "--device", "CT-1",
             "--from", "1404/12/30"],
            "That date does not exist. Please write it like 1403/12/30.",
        ),
        (
            ["send", "--staff", "1", "--text", "x", "--audience", "device", "--device", "CT-1",
             "--from", "1405/9/31"],
            "That date does not exist",
        ),
        (
            ["send", "--staff", "1", "--text", "x", "--audience", "device", "--device", "CT-1",
             "--from", "1405/09/12", "--to", "1405/09/10"],
            "--to 1405/09/10 is before --from 1405/09/12",
        ),
        (["send", "--staff", "1", "--text", "x", "--audience", "device"], "needs --device"),
        (
            ["send", "--staff", "1", "--text", "x", "--audience", "device", "--device", "XX-9",
             "--from", "1405/09/10"],
            "There is no device with the code XX-9.",
        ),
        (
            ["send", "--staff", "1", "--text", "x", "--audience", "future", "--device", "CT-1"],
            "go with --audience device only",
        ),
        (["send", "--staff", "999", "--text", "x", "--audience", "future"], "no staff member 999"),
        (["send", "--staff", "2", "--text", "x", "--audience", "future"], "may not send"),
        (["send", "--staff", "1", "--text", "  ", "--audience", "future"], "message is empty"),
        (
            ["send", "--staff", "1", "--text-file", "/nonexistent/message.txt", "--audience",
             "future"],
            "cannot read /nonexistent/message.txt",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """On SQLite (no worker needed): staff 1 is the demo admin, 2 a receptionist."""
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_LANG", "en")
    assert main(["db", "upgrade"]) == 0
    assert main(["seed", "--demo"]) == 0
    capsys.readouterr()
    assert main(["broadcast", *args]) == 2
    assert message in capsys.readouterr().err


def _wait_for(path: Path, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(path.read_text(encoding="utf-8"))
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{pattern.pattern!r} never appeared in {path.read_text()!r}")


@pytest.mark.pg
def test_the_console_script_stops_following_on_ctrl_c_and_follows_again(
    clinic: Clinic, tmp_path: Path
) -> None:
    env = os.environ | {"RADYAR_DATABASE_URL": clinic.url, "RADYAR_LANG": "fa"}
    added = subprocess.run(
        [SCRIPT, "staff", "add", "--name", "حسین شیروانی", "--roles", "broadcaster"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    staff = added.stdout.split()[2]
    message = tmp_path / "message.txt"
    text = "یادآوری: لطفاً کارت بیمه را همراه داشته باشید."
    message.write_text(text + "\n", encoding="utf-8")
    send = [SCRIPT, "broadcast", "send", "--staff", staff, "--text-file", str(message)]
    refused = subprocess.run(
        [*send, "--audience", "future"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "not a terminal" in refused.stderr

    clinic.worker.pause()
    output = tmp_path / "send.out"
    with output.open("w") as sink:
        proc = subprocess.Popen(
            [*send, "--audience", "future", "--yes"],
            env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_for(output, PROGRESS)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    out = output.read_text(encoding="utf-8")
    broadcast_id = _broadcast_id(out)
    assert "0/40  sent 0  failed 0  queued 40" in out
    assert f"stopped following; broadcast {broadcast_id} goes on being delivered" in out
    status = [SCRIPT, "broadcast", "status", str(broadcast_id)]
    still = subprocess.run(status, env=env, capture_output=True, text=True, timeout=60)
    assert "total 40  sent 0  failed 0  cancelled 0  queued 40" in still.stdout

    clinic.worker.resume()
    followed = subprocess.run(
        [*status, "--follow"], env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert followed.returncode == 0, followed.stderr
    assert f"broadcast {broadcast_id} done: 40 sent, 0 failed, 0 cancelled" in followed.stdout
    for n in range(IN_RANGE + LATER):
        assert clinic.worker.received(FIRST_USER + n, text) == 1
