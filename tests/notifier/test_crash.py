"""A worker killed (SIGKILL) mid-broadcast and restarted: nothing lost, few sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
from clinic.clock import SystemClock
from clinic.db import make_engine, make_sessionmaker
from clinic.models import OutboxMessage, Patient, Role, StaffRole
from clinic.outbox_store import depth
from clinic.policy import Policy
from clinic.uow import UnitOfWork
from notifier.sms.kavenegar import localid
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox
from tests.bulk import FIRST_USER, add_booked_patients
from tests.conftest import create_pg_database, drop_pg_database, require_pg

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

pytestmark = pytest.mark.slow  # worker processes killed and restarted

TOKEN = "765432:CRASH-TEST"
PATIENTS = 500
BATCH = 25
TEXT = "همکاران گرامی: بخش تصویربرداری فردا از ساعت ۷ باز است."
# Kill after this many deliveries: not a multiple of BATCH, so a claimed batch is half sent.
KILL_AFTER = 112
SCRIPT = str(Path(sys.executable).with_name("radyar"))


def _run(env: Mapping[str, str], args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=120)


async def _radyar(env: Mapping[str, str], *args: str) -> None:
    done = await asyncio.to_thread(_run, env, args)
    assert done.returncode == 0, done.stderr


def _start_worker(env: Mapping[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SCRIPT, "worker"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
    )


def _kill(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
    if proc is not None:
        proc.wait(timeout=10)


@pytest.mark.pg
async def test_a_worker_killed_mid_broadcast_loses_nothing(tmp_path: Path) -> None:
    """The issue's acceptance test: 500 messages, SIGKILL, restart; duplicates ≤ in flight."""
    await require_pg()
    name = f"radyar_crash_{os.getpid()}"
    url = await create_pg_database(name)
    engine = make_engine(url)
    workers: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "worker.log").open("wb")
    try:
        async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as chat:
            env = os.environ | {
                "RADYAR_DATABASE_URL": url,
                "RADYAR_DATA_DIR": str(tmp_path),
                "RADYAR_TELEGRAM_TOKEN": TOKEN,
                "RADYAR_BOT_API_URL": chat.base_url,
                "RADYAR_BOT_FILE_URL": chat.base_file_url,
                "RADYAR_SMS_PROVIDER": "log",
                "RADYAR_OUTBOX_LEASE_SECONDS": "5",
                "RADYAR_WORKER_BATCH": str(BATCH),
            }
            await _radyar(env, "db", "upgrade")
            await _radyar(env, "seed", "--demo")
            uow = UnitOfWork(make_sessionmaker(engine), SystemClock(), Policy())
            async with uow:
                tomorrow = uow.clock.now() + timedelta(days=1)
                await add_booked_patients(uow, PATIENTS, first=0, starts_at=tomorrow)
                staff_id = await uow.session.scalar(
                    select(StaffRole.staff_id).where(StaffRole.role == Role.BROADCASTER.value)
                )
                assert staff_id is not None
                sender = Actor.staff(staff_id, [Role.BROADCASTER])
                draft, count = await draft_broadcast(uow, sender, TEXT, Audience("future"))
                await send_broadcast(uow, sender, draft.id)
                await uow.commit()
            assert count == PATIENTS
            for n in range(PATIENTS):
                chat.create_user(FIRST_USER + n, "بیمار")

            def delivered() -> int:
                return chat.request_counts().get("sendMessage", 0)

            started = time.monotonic()
            workers.append(_start_worker(env, log))
            deadline = started + 30
            while delivered() < KILL_AFTER:
                assert workers[0].poll() is None, "the worker died on its own"
                assert time.monotonic() < deadline, "the worker delivered too little"
                await asyncio.sleep(0.01)
            workers[0].send_signal(signal.SIGKILL)
            await asyncio.to_thread(workers[0].wait, 10)
            at_kill = delivered()
            async with uow:
                in_flight = await _count(uow, "sending")
            assert at_kill < 400, "killed too late to prove anything"
            assert in_flight > 0, "killed between batches: nothing was in flight"

            workers.append(_start_worker(env, log))
            deadline = time.monotonic() + 120
            while True:
                async with uow:
                    left = await _count(uow, "pending", "sending")
                if left == 0:
                    break
                assert workers[1].poll() is None, "the restarted worker died"
                assert time.monotonic() < deadline, f"{left} messages still undelivered"
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            async with uow:
                statuses = await depth(uow)
            received = [
                [m for m in chat.messages_to(FIRST_USER + n) if TEXT in (m.text or "")]
                for n in range(PATIENTS)
            ]
        duplicates = sum(len(r) - 1 for r in received if r)
        print(  # noqa: T201 - the numbers the issue asks about, shown with pytest -s
            f"\ncrash test: {at_kill} delivered before SIGKILL, {in_flight} rows in flight, "
            f"{duplicates} duplicates, {elapsed:.1f} s for {PATIENTS} messages"
        )
        assert statuses == {"sent": PATIENTS}
        assert all(received), "some chat never got the broadcast"
        assert duplicates <= in_flight <= BATCH
    finally:
        for proc in workers:
            _kill(proc)
        log.close()
        await engine.dispose()
        await drop_pg_database(name)


async def _count(uow: UnitOfWork, *statuses: str) -> int:
    found = await uow.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(statuses))
    )
    return int(found or 0)


SMS_KEY = "kv-crash-test"
SMS_LINE = "10004346"
SMS_PATIENTS = 300
# Requests held by the gateway when the worker is killed: it accepts them only afterwards, so
# their rows are still "sending" with the SMS already out, and must be re-sent after the restart.
HELD = 3


@pytest.mark.pg
async def test_a_worker_killed_mid_sms_broadcast_sends_each_sms_once(tmp_path: Path) -> None:
    """SMS side of the acceptance test: 300 patients without chat, Kavenegar, SIGKILL while
    the gateway holds requests, restart; the re-sent rows carry their localid, so every
    patient gets exactly one SMS and the re-sends are bounded by the rows in flight."""
    await require_pg()
    name = f"radyar_crash_sms_{os.getpid()}"
    url = await create_pg_database(name)
    engine = make_engine(url)
    workers: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "worker.log").open("wb")
    try:
        async with SmsSandbox(kavenegar_keys=[SMS_KEY], kavenegar_lines=[SMS_LINE]) as sms:
            env = os.environ | {
                "RADYAR_DATABASE_URL": url,
                "RADYAR_DATA_DIR": str(tmp_path),
                "RADYAR_TELEGRAM_TOKEN": "",
                "RADYAR_BALE_TOKEN": "",
                "RADYAR_SMS_PROVIDER": "kavenegar",
                "RADYAR_SMS_API_KEY": SMS_KEY,
                "RADYAR_SMS_BASE_URL": sms.url,
                "RADYAR_SMS_SENDER": SMS_LINE,
                "RADYAR_SMS_FAILOVER_PROVIDER": "",
                # The worker runs on the real clock: at night in Tehran a non-urgent SMS waits.
                "RADYAR_SMS_QUIET_HOURS": "off",
                "RADYAR_OUTBOX_LEASE_SECONDS": "5",
                "RADYAR_WORKER_BATCH": str(BATCH),
            }
            await _radyar(env, "db", "upgrade")
            await _radyar(env, "seed", "--demo")
            uow = UnitOfWork(make_sessionmaker(engine), SystemClock(), Policy())
            async with uow:
                tomorrow = uow.clock.now() + timedelta(days=1)
                await add_booked_patients(
                    uow, SMS_PATIENTS, first=0, starts_at=tomorrow, with_chat=False
                )
                staff_id = await uow.session.scalar(
                    select(StaffRole.staff_id).where(StaffRole.role == Role.BROADCASTER.value)
                )
                assert staff_id is not None
                sender = Actor.staff(staff_id, [Role.BROADCASTER])
                draft, count = await draft_broadcast(uow, sender, TEXT, Audience("future"))
                await send_broadcast(uow, sender, draft.id)
                await uow.commit()
            assert count == SMS_PATIENTS

            def sends() -> int:
                return sms.count("kavenegar", "sms/send")

            started = time.monotonic()
            workers.append(_start_worker(env, log))
            deadline = started + 30
            while sends() < KILL_AFTER:
                assert workers[0].poll() is None, "the worker died on its own"
                assert time.monotonic() < deadline, "the worker sent too little"
                await asyncio.sleep(0.01)
            # The next requests hang; once they do, the worker is killed while they are held.
            sms.hang_next("kavenegar", HELD, seconds=20.0, then_process=True)
            held_until = time.monotonic() + 10
            while sms.count("kavenegar", "hangs") < 1:
                assert workers[0].poll() is None, "the worker died on its own"
                assert time.monotonic() < held_until, "no request reached the gateway"
                await asyncio.sleep(0.01)
            for _ in range(100):  # up to a second for the rest of the batch to be held too
                if sms.count("kavenegar", "hangs") >= HELD:
                    break
                await asyncio.sleep(0.01)
            workers[0].send_signal(signal.SIGKILL)
            await asyncio.to_thread(workers[0].wait, 10)
            held = sms.count("kavenegar", "hangs")
            sms.faults("kavenegar").hang_count = 0  # the restarted worker is not held
            sms.release_hangs()  # the held requests are now accepted: their SMS go out
            await sms.wait_idle(5)
            at_kill = sends()
            async with uow:
                flying = list(
                    await uow.session.scalars(
                        select(OutboxMessage.id).where(OutboxMessage.status == "sending")
                    )
                )
            in_flight = len(flying)
            localids = {m.localid for m in sms.messages("kavenegar")}
            out_unrecorded = sum(localid(f"radyar-{i}") in localids for i in flying)
            assert at_kill < 250, "killed too late to prove anything"
            assert 0 < in_flight <= BATCH, "the kill did not land mid-batch"
            assert out_unrecorded >= held >= 1, "the held SMS were not accepted after the kill"

            workers.append(_start_worker(env, log))
            deadline = time.monotonic() + 60
            while True:
                async with uow:
                    left = await _count(uow, "pending", "sending")
                if left == 0:
                    break
                assert workers[1].poll() is None, "the restarted worker died"
                assert time.monotonic() < deadline, f"{left} messages still unsent"
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            async with uow:
                statuses = await depth(uow)
                mobiles = list(
                    await uow.session.scalars(
                        select(Patient.mobile)
                        .join(OutboxMessage, OutboxMessage.recipient_id == Patient.id)
                        .where(OutboxMessage.recipient_kind == "patient")
                    )
                )
            received = [[m for m in sms.inbox(mobile) if TEXT in m.text] for mobile in mobiles]
            calls = sends()
            deduplicated = sms.count("kavenegar", "deduplicated")
            accepted = sms.count("kavenegar", "accepted")
        duplicates = sum(len(r) - 1 for r in received if r)
        print(  # noqa: T201 - the numbers the issue asks about, shown with pytest -s
            f"\nsms crash test: {at_kill} sms/send calls before SIGKILL ({held} held by the "
            f"gateway, accepted after it), {in_flight} rows in flight, {out_unrecorded} of "
            f"them already sent; {calls} sms/send calls in all, {deduplicated} deduplicated "
            f"by localid, {accepted} accepted, {duplicates} inbox duplicates, "
            f"{elapsed:.1f} s for {SMS_PATIENTS} SMS"
        )
        assert statuses == {"sent": SMS_PATIENTS}, "a row failed or is not sent"
        assert len(mobiles) == SMS_PATIENTS
        assert all(received), "some patient never got the broadcast"
        assert duplicates == 0, "the gateway sent a re-sent row twice"
        assert [len(r) for r in received] == [1] * SMS_PATIENTS
        assert accepted == SMS_PATIENTS
        # Rows sent before the kill but not recorded were really sent again, with their localid.
        assert calls >= SMS_PATIENTS + out_unrecorded > SMS_PATIENTS
        assert deduplicated >= out_unrecorded
        # Re-sends are bounded: at most the rows in flight.
        assert calls - SMS_PATIENTS <= in_flight
    finally:
        for proc in workers:
            _kill(proc)
        log.close()
        await engine.dispose()
        await drop_pg_database(name)
