"""``radyar run``'s hospital listeners from settings: MLLP for HL7, the HIS webhook, Orthanc."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.jalali import TEHRAN
from clinic.models import OutboxMessage
from notifier.his_webhook import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from notifier.mllp import send_mllp
from radyar.app import App
from radyar.cli import main
from radyar.hospitalrun import poll_orthanc, serve_mllp
from radyar.outbox_run import serve_http
from radyar.settings import Settings
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.notifier.test_hl7 import message

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

pytestmark = pytest.mark.slow  # a real radyar run process

SECRET = "a-webhook-secret-of-32-characters"
MONDAY = date(2026, 11, 30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _admitted(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        start = datetime.combine(MONDAY, time(9), tzinfo=TEHRAN)
        held = await hold_slot(uow, me, referral, dept.ct.id, start)
        booking = await confirm_booking(uow, me, held.id)
        await uow.commit()
    env.clock.set(datetime.combine(MONDAY, time(9, 5), tzinfo=TEHRAN))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number="RAD-1001")
        await uow.commit()


async def test_run_listens_for_hl7_and_the_his_webhook_as_configured(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    env = sqlite_env
    await _admitted(env)
    mllp_port, http_port = _free_port(), _free_port()
    settings = Settings.from_env(
        {
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_MLLP_PORT": str(mllp_port),
            "RADYAR_HTTP_PORT": str(http_port),
            "RADYAR_HIS_WEBHOOK_SECRET": SECRET,
            "RADYAR_MLLP_ALLOW": "127.0.0.1",
            "RADYAR_HIS_WEBHOOK_ALLOW": "127.0.0.1",
        }
    )
    app = App(settings, env.engine, env.sessionmaker, env.clock)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(job(settings, app, stop))
        for job in (serve_mllp, serve_http, poll_orthanc)
    ]
    try:
        for _ in range(100):  # until both listeners accept connections
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", mllp_port)
                writer.close()
                _, writer = await asyncio.open_connection("127.0.0.1", http_port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        ack = await send_mllp("127.0.0.1", mllp_port, message("oru_r01_final.hl7"))
        assert b"MSA|AA|" in ack
        body = json.dumps({"accession_number": "RAD-1001", "status": "corrected"}).encode()
        stamp = int(env.clock.now().timestamp())
        headers = {
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(SECRET.encode(), stamp, body),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{http_port}{PATH}", data=body, headers=headers) as r,
        ):
            assert (r.status, await r.json()) == (200, {"outcome": "applied"})
        assert tasks[2].done()  # no RADYAR_ORTHANC_URL: no poller
        await _strangers_are_refused(http_port, mllp_port, body, headers)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timedelta(seconds=10).total_seconds())
    async with env.uow() as uow:
        kinds = sorted(await uow.session.scalars(select(OutboxMessage.kind)))
    assert "report_ready" in kinds and "report_corrected" in kinds


async def _strangers_are_refused(
    http_port: int, mllp_port: int, body: bytes, headers: dict[str, str]
) -> None:
    """Another address: its MLLP connection closed, the webhook 403, /healthz still 200; the
    refusals in /metrics."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", mllp_port, local_addr=("127.0.0.2", 0)
    )
    writer.write(b"\x0b" + message("oru_r01_final.hl7") + b"\x1c\r")
    async with asyncio.timeout(10):
        assert await reader.read() == b""
    writer.close()
    url = f"http://127.0.0.1:{http_port}"
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(url + PATH, data=body, headers=headers) as r:
            assert r.status == 403
        async with session.get(url + "/healthz") as r:
            assert r.status == 200
        async with session.get(url + "/metrics") as r:
            metrics = await r.text()
    for reason in ('listener="mllp",reason="not_allowed"', 'listener="http",reason="not_allowed"'):
        assert f"radyar_listener_limited_total{{{reason}}} 1" in metrics


def test_run_raises_its_open_file_limit_to_fit_the_listeners() -> None:
    """A child process whose soft limit is 100 (hard 1000) is raised to what run needs."""
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (100, 1000))\n"
        "from radyar.settings import Settings\n"
        "from radyar.hospitalrun import fit_open_files, open_files_needed\n"
        "settings = Settings.from_env({})\n"
        "fit_open_files(settings)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], open_files_needed(settings))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert done.stdout.split() == ["320", "320"]  # 64 + 64 connections, 2 x 32 queued, 128


async def test_mllp_port_zero_means_no_listener(sqlite_env: ClinicEnv, tmp_path: Path) -> None:
    settings = Settings.from_env({"RADYAR_DATA_DIR": str(tmp_path), "RADYAR_MLLP_PORT": "0"})
    app = App(settings, sqlite_env.engine, sqlite_env.sessionmaker, sqlite_env.clock)
    await asyncio.wait_for(serve_mllp(settings, app, asyncio.Event()), 5)


def test_run_without_a_bot_token_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path))
    for name in ("RADYAR_TELEGRAM_TOKEN", "RADYAR_BALE_TOKEN", "RADYAR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "--platform", "bale"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "radyar: set RADYAR_BALE_TOKEN to run the bot (see the README)"


def test_run_without_the_bot_api_says_so_and_leaves_nothing_open(tmp_path: Path) -> None:
    # Bound and held, never listening: connections are refused, and no other test process
    # can take the port meanwhile.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    closed = holder.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "RADYAR_DATA_DIR": str(tmp_path),
        "RADYAR_TELEGRAM_TOKEN": "1:T",
        "RADYAR_BOT_API_URL": f"http://127.0.0.1:{closed}/bot",
        "RADYAR_HTTP_PORT": str(_free_port()),
        "RADYAR_MLLP_PORT": str(_free_port()),
        "RADYAR_LANG": "en",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "radyar", "run"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        holder.close()
    assert done.returncode == 1
    assert "radyar: the command failed (NetworkError: a service it needs cannot be reached)" in (
        done.stderr
    )
    assert "Unclosed client session" not in done.stderr
    assert "Traceback" not in done.stderr and "1:T" not in done.stderr


def test_a_rejected_token_is_not_in_the_log_even_at_debug(tmp_path: Path) -> None:
    # The Bot API sandbox knows another token: ours is refused with 401, which
    # python-telegram-bot turns into an error quoting the token in full.
    port = _free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandbox.botapi", "--port", str(port), "--token", "1:GOODTOKEN"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            subprocess.run(["sleep", "0.1"], check=True)
        env = {
            "PATH": "/usr/bin:/bin",
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_LOG_LEVEL": "DEBUG",
            "RADYAR_TELEGRAM_TOKEN": "999:WRONGSECRETTOKEN",
            "RADYAR_BOT_API_URL": f"http://127.0.0.1:{port}/bot",
            "RADYAR_HTTP_PORT": str(_free_port()),
            "RADYAR_MLLP_PORT": "0",
            "RADYAR_LANG": "en",
        }
        done = subprocess.run(
            [sys.executable, "-m", "radyar", "run"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    assert done.returncode == 1
    assert "radyar: the command failed (InvalidToken); see the log" in done.stderr
    assert "DEBUG" in done.stderr  # the debug log was on, and still:
    assert "WRONGSECRETTOKEN" not in done.stderr and "999:" not in done.stderr
