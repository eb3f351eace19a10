"""``radyar run``'s hospital listeners from settings: MLLP for HL7, the HIS webhook, Orthanc."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import date, datetime, time, timedelta
from pathlib import Path

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
from radyar.settings import Settings
from radyar.workerrun import serve_http
from tests.conftest import ClinicEnv
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.notifier.test_hl7 import message

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
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timedelta(seconds=10).total_seconds())
    async with env.uow() as uow:
        kinds = sorted(await uow.session.scalars(select(OutboxMessage.kind)))
    assert "report_ready" in kinds and "report_corrected" in kinds


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
