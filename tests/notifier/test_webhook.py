"""The HIS report webhook over real HTTP: signed, replay-proof, bad payloads kept for staff."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp.test_utils import BaseTestServer, TestServer
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.jalali import TEHRAN
from clinic.models import RejectedMessage, UnmatchedEvent
from clinic.outbox import pending
from notifier.his_webhook import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, sign
from notifier.web import create_app
from tests.factories import (
    RECEPTION,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import ClinicEnv

SECRET = b"his-shared-secret-for-tests-0001"
MONDAY = date(2026, 11, 30)


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


class His:
    """The HIS side: signs and posts report events to the webhook."""

    def __init__(self, env: ClinicEnv, server: BaseTestServer, session: aiohttp.ClientSession):
        self.env = env
        self.url = str(server.make_url(PATH))
        self.session = session

    def headers(self, body: bytes, *, secret: bytes = SECRET, skew: float = 0) -> dict[str, str]:
        stamp = int(self.env.clock.now().timestamp() + skew)
        return {
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(secret, stamp, body),
            "Content-Type": "application/json",
        }

    async def post(
        self, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(
            self.url, data=raw, headers=self.headers(raw) if headers is None else headers
        ) as response:
            return response.status, await response.json()


@pytest.fixture
async def his(env: ClinicEnv) -> AsyncIterator[His]:
    app = create_app(env.uow, WebhookConfig(secret=SECRET))
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        yield His(env, server, session)


async def _admitted(env: ClinicEnv, start: datetime, accession: str | None) -> int:
    """Patient 0 booked on the CT at ``start`` and admitted (with ``accession`` if given)."""
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        booking = await confirm_booking(
            uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
        )
        await uow.commit()
    env.clock.set(start + timedelta(minutes=5))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number=accession)
        await uow.commit()
    return patient


async def _rows(env: ClinicEnv, kind: str) -> list[int]:
    async with env.uow() as uow:
        return [row.recipient_id for row in await pending(uow, kind=kind)]


async def test_a_final_report_reaches_the_patient_once(env: ClinicEnv, his: His) -> None:
    patient = await _admitted(env, at(9), "HIS-501")
    body = {"accession_number": "HIS-501", "status": "final", "time": "2026-11-30T12:00:00"}
    status, answer = await his.post(body)
    assert (status, answer) == (200, {"outcome": "applied"})
    # The HIS sends it again later (new timestamp, new signature): nothing new.
    env.clock.advance(seconds=30)
    assert await his.post(body) == (200, {"outcome": "duplicate"})
    assert await _rows(env, "report_ready") == [patient]
    # A corrected report is a new notice.
    corrected = {"accession_number": "HIS-501", "status": "corrected", "time": "2026-12-01T09:00"}
    assert (await his.post(corrected))[0] == 200
    assert await _rows(env, "report_corrected") == [patient]


async def test_a_replayed_request_is_refused(env: ClinicEnv, his: His) -> None:
    await _admitted(env, at(9), "HIS-502")
    raw = json.dumps({"accession_number": "HIS-502", "status": "final"}).encode()
    headers = his.headers(raw)
    assert (await his.post(raw, headers))[0] == 200
    status, answer = await his.post(raw, headers)
    assert (status, answer["error"]) == (409, "replayed")


async def test_unsigned_forged_or_stale_requests_are_refused_and_change_nothing(
    env: ClinicEnv, his: His
) -> None:
    patient_raw = {"accession_number": "HIS-503", "status": "final"}
    await _admitted(env, at(9), "HIS-503")
    raw = json.dumps(patient_raw).encode()
    cases = {
        "unsigned": {"Content-Type": "application/json"},
        "bad_signature": his.headers(raw, secret=b"someone-else-s-secret-000000"),
        "stale": his.headers(raw, skew=-3600),
        "bad_timestamp": {TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: "sha256=00"},
    }
    for code, headers in cases.items():
        status, answer = await his.post(raw, headers)
        assert (status, answer["error"]) == (401, code)
    # A body changed after signing does not match its signature.
    tampered = his.headers(raw)
    status, _ = await his.post(raw.replace(b"503", b"504"), tampered)
    assert status == 401
    assert await _rows(env, "report_ready") == []
    async with env.uow() as uow:
        kept = await uow.session.scalar(select(func.count()).select_from(RejectedMessage))
    assert kept == 0  # unauthenticated requests are not stored


async def test_bad_payloads_get_a_clear_4xx_and_are_kept_for_staff(
    env: ClinicEnv, his: His
) -> None:
    cases: list[tuple[bytes | dict[str, Any], int, str]] = [
        (b"{not json", 400, "bad_json"),
        (b"[1, 2]", 400, "bad_json"),
        ({"status": "final"}, 422, "missing_field"),
        ({"accession_number": "A 1 !", "status": "final"}, 422, "invalid_field"),
        ({"accession_number": "A1", "status": "preliminary"}, 422, "invalid_field"),
        ({"accession_number": "A1", "status": "final", "time": "noon"}, 422, "invalid_field"),
        ("\u00e9".encode("latin-1"), 400, "bad_json"),
    ]
    for body, status, code in cases:
        got, answer = await his.post(body)
        assert (got, answer["error"]) == (status, code), body
        assert answer["message"] and answer["kept_as"] > 0
    async with env.uow() as uow:
        kept = list(
            await uow.session.scalars(select(RejectedMessage).order_by(RejectedMessage.id))
        )
    assert [m.source for m in kept] == ["his"] * len(cases)
    assert kept[0].body == "{xxx xxxx"  # not JSON: kept as its shape only


async def test_a_refused_payload_is_kept_without_the_patient_in_it(
    env: ClinicEnv, his: His
) -> None:
    body = {"accession_number": "HIS-77", "status": "draft", "national_code": national_code(0),
            "patient_name": "مریم رضایی", "impression": "suspicious for malignancy"}  # fmt: skip
    status, answer = await his.post(body)
    assert (status, answer["error"]) == (422, "invalid_field")
    async with env.uow() as uow:
        kept = await uow.session.get(RejectedMessage, answer["kept_as"])
    assert kept is not None
    assert json.loads(kept.body) == {
        "accession_number": "HIS-77",
        "status": "draft",
        "national_code": "***",
        "patient_name": "***",
        "impression": "***",
    }


async def test_a_signature_that_is_not_ascii_is_refused_not_a_server_error(
    env: ClinicEnv, his: His
) -> None:
    raw = json.dumps({"accession_number": "HIS-1", "status": "final"}).encode()
    for forged in ("sha256=" + "۰" * 64, "sha256=é", "ÿ" * 71):
        headers = {**his.headers(raw), SIGNATURE_HEADER: forged}
        status, answer = await his.post(raw, headers)
        assert (status, answer["error"]) == (401, "bad_signature"), forged
    status, answer = await his.post(raw)  # the HIS's own signature still works
    assert (status, answer["outcome"]) == (202, "unmatched")


async def test_an_unknown_accession_waits_and_a_hinted_one_finds_its_booking(
    env: ClinicEnv, his: His
) -> None:
    patient = await _admitted(env, at(9), None)
    status, answer = await his.post({"accession_number": "LATE-1", "status": "final"})
    assert (status, answer["outcome"]) == (202, "unmatched")
    async with env.uow() as uow:
        waiting = await uow.session.scalar(select(UnmatchedEvent.accession_number))
    assert waiting == "LATE-1"
    hinted = {
        "accession_number": "HINT-1",
        "status": "final",
        "national_code": national_code(0),
        "modality": "CT",
        "study_date": "2026-11-30",
    }
    assert await his.post(hinted) == (200, {"outcome": "applied"})
    assert await _rows(env, "report_ready") == [patient]


async def test_without_a_secret_the_endpoint_is_closed(env: ClinicEnv) -> None:
    app = create_app(env.uow)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession() as session,
        session.post(server.make_url(PATH), data=b"{}") as response,
    ):
        assert response.status == 503
        assert (await response.json())["error"] == "not_configured"


async def test_an_oversized_body_is_refused(env: ClinicEnv, his: His) -> None:
    big = json.dumps({"accession_number": "A1", "status": "final", "pad": "x" * 70_000})
    status, answer = await his.post(big.encode())
    assert (status, answer["error"]) == (413, "too_large")


async def test_mangled_signed_bodies_get_a_clear_answer_never_a_server_error(
    env: ClinicEnv, his: His
) -> None:
    rng = random.Random(1405)
    good = json.dumps(
        {"accession_number": "FZ-1", "status": "final", "time": "2026-11-30T12:00:00",
         "national_code": national_code(0), "modality": "CT", "study_date": "2026-11-30"}
    ).encode()  # fmt: skip
    statuses = set()
    for n in range(150):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.choice(b'{}[]":,0aZ\\\xff ')
        body = bytes(data) + b" " * n  # every body differs: no replays here
        status, answer = await his.post(body)
        statuses.add(status)
        assert status in (200, 202, 400, 422), (status, answer)
        assert answer.get("outcome") or answer.get("message")
    assert {400, 422} <= statuses
