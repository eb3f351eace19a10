"""GET /fhir/Appointment: a day's appointments as a FHIR R4 searchset Bundle, read back with
fhir.resources, over a real HTTP server on loopback and a real database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.daylist import check_in, complete, mark_no_show
from clinic.jalali import TEHRAN
from notifier.fhir_read import fhir_routes
from notifier.outbound.fhir import BOOKING_SYSTEM
from notifier.web import create_app
from tests.factories import RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import ClientResponse, web

    from clinic.models import Booking, Exam
    from tests.conftest import ClinicEnv

TOKEN = "read-token-for-the-ris-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)
CT_ROOM = "اتاق ۳"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


@dataclass(frozen=True)
class Day:
    """The booking codes of Monday's appointments, by what became of them."""

    moved: str  # booked for 08:30 on the CT, moved to 09:00: its first code
    admitted: str  # MRI 10:00
    done: str  # MRI 11:00, the exam done
    missed: str  # CT 09:30


async def _book(env: ClinicEnv, device: int, exam: Exam, n: int, when: datetime) -> Booking:
    """Patient ``n``'s confirmed booking of ``exam`` on ``device`` at ``when``."""
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        referral = await approved_referral(uow, patient, exam)
        hold = await hold_slot(uow, Actor.patient(patient), referral, device, when)
        booking = await confirm_booking(uow, Actor.patient(patient), hold.id)
        await uow.commit()
    return booking


@pytest.fixture
async def day(env: ClinicEnv) -> Day:
    async with env.uow() as uow:
        dept = await build_department(uow)
        dept.ct.room = CT_ROOM
        dept.mri.room = "MRI"
        await uow.commit()
    ct, mri, brain, knee = dept.ct.id, dept.mri.id, dept.ct_brain, dept.mri_knee
    first = await _book(env, ct, brain, 1, at(MONDAY, 8, 30))
    admitted = await _book(env, mri, knee, 2, at(MONDAY, 10))
    done = await _book(env, mri, knee, 3, at(MONDAY, 11))
    missed = await _book(env, ct, brain, 4, at(MONDAY, 9, 30))
    cancelled = await _book(env, ct, brain, 5, at(MONDAY, 10))
    await _book(env, ct, brain, 6, at(TUESDAY, 9))  # another day
    async with env.uow() as uow:
        patient = await add_patient(uow, 7)
        referral = await approved_referral(uow, patient, brain)
        await hold_slot(uow, Actor.patient(patient), referral, ct, at(MONDAY, 11))  # a hold
        me = Actor.patient(first.patient_id)
        moved = await reschedule_hold(uow, me, first.id, ct, at(MONDAY, 9))
        await confirm_booking(uow, me, moved.id)
        await cancel_booking(uow, RECEPTION, cancelled.id, reason="staff")
        await uow.commit()
    env.clock.set(at(MONDAY, 12))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, admitted.id)
        await check_in(uow, RECEPTION, done.id)
        await complete(uow, RECEPTION, done.id)
        await mark_no_show(uow, RECEPTION, missed.id)
        await uow.commit()
    return Day(first.code, admitted.code, done.code, missed.code)


@pytest.fixture
async def client(env: ClinicEnv) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = create_app(env.uow, fhir_token=TOKEN.encode())  # as `radyar run` serves it
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _bundle(response: ClientResponse) -> Bundle:
    assert response.status == 200, await response.text()
    assert response.content_type == "application/fhir+json"
    return Bundle.model_validate_json(await response.text())


def _listed(bundle: Bundle) -> list[tuple[str, str, str]]:
    """(booking code, status, Tehran start) of each appointment, in the Bundle's order."""
    rows = []
    for entry in bundle.entry or []:
        resource = entry.resource
        assert resource is not None and resource.get_resource_type() == "Appointment"
        item = resource.model_dump()
        code = next(i["value"] for i in item["identifier"] if i.get("system") == BOOKING_SYSTEM)
        rows.append((code, item["status"], item["start"].strftime("%H:%M%z")))
    return rows


async def test_the_days_standing_appointments_are_listed_in_time_order(
    client: TestClient[web.Request, web.Application], day: Day
) -> None:
    bundle = await _bundle(await client.get("/fhir/Appointment?date=2026-11-30", headers=AUTH))
    assert bundle.type == "searchset"
    assert bundle.total == 4  # not the cancelled one, the hold, the old time, Tuesday's
    assert _listed(bundle) == [
        (day.moved, "booked", "09:00+0330"),
        (day.missed, "noshow", "09:30+0330"),
        (day.admitted, "arrived", "10:00+0330"),
        (day.done, "fulfilled", "11:00+0330"),
    ]
    assert bundle.link is not None and bundle.link[0].relation == "self"
    first = bundle.entry[0] if bundle.entry else None
    assert first is not None and first.search is not None and first.search.mode == "match"
    text = await (await client.get("/fhir/Appointment?date=eq2026-11-30", headers=AUTH)).text()
    assert "علی رضایی" in text and "سی‌تی‌اسکن مغز بدون تزریق" in text and CT_ROOM in text
    assert _listed(Bundle.model_validate_json(text)) == _listed(bundle)


async def test_the_actor_narrows_the_list_to_a_device_or_a_room(
    client: TestClient[web.Request, web.Application], day: Day
) -> None:
    async def codes(actor: str) -> list[str]:
        response = await client.get(
            "/fhir/Appointment", params={"date": "2026-11-30", "actor": actor}, headers=AUTH
        )
        return [code for code, _, _ in _listed(await _bundle(response))]

    assert await codes("Device/MRI-1") == [day.admitted, day.done]
    assert await codes(f"Location/{CT_ROOM}") == [day.moved, day.missed]
    assert await codes("Device/NO-SUCH") == []


async def test_another_day_has_its_own_list(
    client: TestClient[web.Request, web.Application], day: Day
) -> None:
    bundle = await _bundle(await client.get("/fhir/Appointment?date=2026-12-01", headers=AUTH))
    assert [status for _, status, _ in _listed(bundle)] == ["booked"]
    empty = await _bundle(await client.get("/fhir/Appointment?date=2026-12-04", headers=AUTH))
    assert (empty.total, empty.entry) == (0, None)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}],
    ids=["missing", "wrong", "no-scheme"],
)
async def test_a_missing_or_wrong_token_is_refused(
    client: TestClient[web.Request, web.Application], day: Day, headers: dict[str, str]
) -> None:
    response = await client.get("/fhir/Appointment?date=2026-11-30", headers=headers)
    assert response.status == 401
    assert response.content_type == "application/fhir+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    outcome = OperationOutcome.model_validate_json(await response.text())
    assert outcome.issue[0].code == "login"
    assert day.moved not in await response.text()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "date=2026-13-01",
        "date=30/11/2026",
        "date=2026-11",
        "date=ge2026-11-30",
        "date=2026-11-30&date=2026-12-01",
        "date=2026-11-30&actor=Patient/1",
        "date=2026-11-30&actor=Device/",
    ],
)
async def test_a_search_we_cannot_answer_is_a_bad_request(
    client: TestClient[web.Request, web.Application], env: ClinicEnv, query: str
) -> None:
    response = await client.get(f"/fhir/Appointment?{query}", headers=AUTH)
    assert response.status == 400
    assert response.content_type == "application/fhir+json"
    outcome = OperationOutcome.model_validate_json(await response.text())
    assert outcome.issue[0].severity == "error" and outcome.issue[0].code == "invalid"
    assert outcome.issue[0].diagnostics


async def test_persian_digits_in_the_date_are_read(
    client: TestClient[web.Request, web.Application], day: Day
) -> None:
    response = await client.get("/fhir/Appointment", params={"date": "۲۰۲۶-۱۱-۳۰"}, headers=AUTH)
    assert (await _bundle(response)).total == 4


def test_the_endpoint_is_not_made_without_a_token(env: ClinicEnv) -> None:
    with pytest.raises(ValueError, match="token"):
        fhir_routes(env.uow, b"")


async def test_without_a_read_token_the_listener_has_no_fhir_endpoint(env: ClinicEnv) -> None:
    async with TestClient(TestServer(create_app(env.uow), host="127.0.0.1")) as test_client:
        response = await test_client.get("/fhir/Appointment?date=2026-11-30", headers=AUTH)
        assert response.status == 404
