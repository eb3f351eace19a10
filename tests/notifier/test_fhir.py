"""FHIR R4 Appointments of booking changes, written to a FHIR server on loopback that reads
every body with fhir.resources' Appointment (the R4 schema check) and keeps what a FHIR
server's conditional create and update would."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from fhir.resources.R4B.appointment import Appointment
from pydantic import ValidationError
from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.daylist import check_in, mark_no_show
from clinic.jalali import TEHRAN
from clinic.models import OutboundEvent
from clinic.outbound_views import OutboundBooking, OutboundKind, event_view
from notifier.outbound.fhir import (
    BOOKING_SYSTEM,
    NATIONAL_CODE_SYSTEM,
    STATUS,
    FhirAdapter,
    appointment,
)
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.factories import national_code as nth_national_code

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import ClinicEnv

TOKEN = "fhir-server-token-0123456789"
NOW = datetime(2026, 11, 30, 5, 0, 7, tzinfo=UTC)
EVENT = OutboundBooking(
    event_id=42,
    kind=OutboundKind.BOOKED,
    occurred_at=datetime(2026, 11, 30, 4, 59, tzinfo=UTC),
    booking_code="BK7Q2X4",
    accession_number=None,
    starts_at=datetime(2026, 12, 1, 6, 30, tzinfo=UTC),  # 10:00 in Tehran
    duration_minutes=20,
    national_code="0012345679",
    first_name="زهرا",
    last_name="محمدی",
    birth_year=1364,
    sex="female",
    mobile="09121234567",
    exam_code="CT-BRAIN",
    exam_name="سی‌تی اسکن مغز",
    modality="CT",
    device_code="CT1",
    device_name="سی‌تی شماره ۱",
    room="اتاق ۱۲",
    site_facility="IMAM-HOSPITAL",
)
SEARCH = f"{BOOKING_SYSTEM}|{EVENT.booking_code}"


@dataclass
class Received:
    """One request as the FHIR server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    appointment: Appointment | None  # None: fhir.resources refused the body


@dataclass
class FhirServer:
    """A FHIR server's Appointment type on 127.0.0.1: conditional create (If-None-Exist) and
    conditional update (PUT ?identifier=) over an in-memory store, or a forced answer."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    store: dict[str, tuple[int, Appointment]] = field(default_factory=dict)
    answer: tuple[int, dict[str, Any] | None] | None = None  # status and JSON body
    delay: float = 0.0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            parsed: Appointment | None = Appointment.model_validate_json(body)
        except ValidationError:
            parsed = None
        self.requests.append(
            Received(
                request.method, request.path, parse_qs(request.query_string),
                dict(request.headers), body, parsed,
            )
        )  # fmt: skip
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), self.delay)
        if self.answer is not None:
            status, payload = self.answer
            return web.json_response(payload, status=status, content_type="application/fhir+json")
        if parsed is None:
            return _outcome(400, "the body is not an R4 Appointment")
        if request.method == "POST":
            wanted = parse_qs(request.headers.get("If-None-Exist", ""))
            return self._create(wanted.get("identifier", [""])[0], parsed)
        return self._update(request.query.get("identifier", ""), parsed)

    def _create(self, key: str, parsed: Appointment) -> web.Response:
        if key in self.store:
            return web.json_response({}, status=200)  # already made: not made twice
        return self._put_new(key, parsed)

    def _update(self, key: str, parsed: Appointment) -> web.Response:
        if key not in self.store:
            return self._put_new(key, parsed)
        number, _ = self.store[key]
        self.store[key] = (number, parsed)
        return web.json_response({}, status=200)

    def _put_new(self, key: str, parsed: Appointment) -> web.Response:
        number = len(self.store) + 1
        self.store[key] = (number, parsed)
        location = f"{self.url}/Appointment/{number}/_history/1"
        return web.json_response({}, status=201, headers={"Location": location})


def _outcome(status: int, text: str) -> web.Response:
    payload = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": text}],
    }
    return web.json_response(payload, status=status)


@pytest.fixture
async def server() -> AsyncIterator[FhirServer]:
    fake = FhirServer()
    app = web.Application()
    app.router.add_route("*", "/fhir/Appointment", fake.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}/fhir"
    try:
        yield fake
    finally:
        fake.release.set()
        await runner.cleanup()


@pytest.fixture
async def adapter(server: FhirServer) -> AsyncIterator[FhirAdapter]:
    async with aiohttp.ClientSession() as session:
        yield FhirAdapter(server.url + "/", token=TOKEN, timeout_seconds=2, session=session)


# --- the Appointment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (OutboundKind.BOOKED, "booked"),
        (OutboundKind.MOVED, "booked"),
        (OutboundKind.ADMITTED, "arrived"),
        (OutboundKind.CANCELLED, "cancelled"),
        (OutboundKind.NO_SHOW, "noshow"),
    ],
)
def test_each_change_gives_its_r4_appointment_status(kind: OutboundKind, status: str) -> None:
    built = appointment(replace(EVENT, kind=kind))
    assert built.status == status
    schema = Appointment.model_fields["status"].json_schema_extra
    allowed = schema.get("enum_values") if isinstance(schema, dict) else None
    assert isinstance(allowed, list) and status in allowed  # an R4 appointmentstatus code


def test_the_appointment_names_the_booking_exam_time_patient_and_device() -> None:
    built = Appointment.model_validate_json(appointment(EVENT).model_dump_json())
    assert built.identifier is not None and built.participant is not None
    assert [(i.system, i.value) for i in built.identifier] == [(BOOKING_SYSTEM, "BK7Q2X4")]
    assert built.start is not None and built.end is not None
    assert built.start.isoformat() == "2026-12-01T10:00:00+03:30"
    assert built.end.isoformat() == "2026-12-01T10:20:00+03:30"
    assert built.minutesDuration == 20
    service = built.serviceType[0] if built.serviceType else None
    assert service is not None and service.coding is not None
    assert (service.coding[0].code, service.coding[0].display) == ("CT-BRAIN", "سی‌تی اسکن مغز")
    assert built.description == "سی‌تی اسکن مغز"  # the exam's name, nothing clinical
    actors = {p.actor.type: p.actor for p in built.participant if p.actor is not None}
    assert set(actors) == {"Patient", "Device", "Location"}  # no staff member made it
    patient = actors["Patient"]
    assert patient.reference is None  # by identifier: the server need hold no Patient of ours
    assert patient.identifier is not None
    assert (patient.identifier.system, patient.identifier.value) == (
        NATIONAL_CODE_SYSTEM, "0012345679",
    )  # fmt: skip
    assert patient.display == "زهرا محمدی"
    assert actors["Device"].display == "سی‌تی شماره ۱"
    assert actors["Device"].identifier is not None
    assert actors["Device"].identifier.value == "CT1"
    assert actors["Location"].display == "اتاق ۱۲"
    assert {p.status for p in built.participant} == {"accepted"}


def test_the_accession_number_and_the_staff_member_are_named_when_known() -> None:
    told = replace(EVENT, kind=OutboundKind.ADMITTED, accession_number="RAD-1001",
                   staff_name="مریم کریمی")  # fmt: skip
    built = appointment(told)
    assert built.identifier is not None and built.participant is not None
    accession = built.identifier[1]
    assert accession.value == "RAD-1001"
    assert accession.type is not None and accession.type.coding is not None
    assert accession.type.coding[0].code == "ACSN"
    assert accession.assigner is not None and accession.assigner.display == "IMAM-HOSPITAL"
    staff = [p.actor for p in built.participant if p.actor and p.actor.type == "Practitioner"]
    assert [s.display for s in staff] == ["مریم کریمی"]


def test_nothing_but_the_exam_name_tells_of_the_patients_health() -> None:
    text = appointment(EVENT).model_dump_json()
    for absent in ("09121234567", "1364", "female", "comment", "reasonCode", "patientInstruction"):
        assert absent not in text


# --- the adapter over the wire ----------------------------------------------------------


async def test_a_booking_is_posted_once_with_if_none_exist_and_the_bearer_token(
    server: FhirServer, adapter: FhirAdapter
) -> None:
    first = await adapter.deliver(EVENT, NOW)
    again = await adapter.deliver(EVENT, NOW)  # the sender's retry after a lost answer
    assert first.ok and first.answer == "HTTP 201 Created Appointment/1/_history/1"
    assert again.ok and again.answer.startswith("HTTP 200")
    assert len(server.store) == 1  # the retry found the one the first made
    sent = server.requests[0]
    assert (sent.method, sent.path, sent.query) == ("POST", "/fhir/Appointment", {})
    assert sent.headers["If-None-Exist"] == f"identifier={SEARCH}"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Content-Type"].startswith("application/fhir+json")
    assert sent.appointment is not None and sent.appointment.status == "booked"
    assert "زهرا محمدی" in sent.body  # UTF-8 as is, not escaped


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (OutboundKind.MOVED, "booked"),
        (OutboundKind.ADMITTED, "arrived"),
        (OutboundKind.CANCELLED, "cancelled"),
        (OutboundKind.NO_SHOW, "noshow"),
    ],
)
async def test_a_later_change_is_a_conditional_update_on_the_booking_code(
    server: FhirServer, adapter: FhirAdapter, kind: OutboundKind, status: str
) -> None:
    assert (await adapter.deliver(EVENT, NOW)).ok
    later = replace(EVENT, kind=kind, starts_at=datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    delivery = await adapter.deliver(later, NOW)
    assert delivery.ok and delivery.answer == "HTTP 200 OK"
    sent = server.requests[-1]
    assert (sent.method, sent.path) == ("PUT", "/fhir/Appointment")
    assert sent.query == {"identifier": [SEARCH]}
    assert "If-None-Exist" not in sent.headers
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    (_, kept), *others = server.store.values()
    assert others == []
    assert kept.status == status
    assert kept.start is not None and kept.start.isoformat() == "2026-12-02T08:30:00+03:30"


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_the_servers_own_trouble_is_tried_again(
    server: FhirServer, adapter: FhirAdapter, status: int
) -> None:
    server.answer = (status, None)
    delivery = await adapter.deliver(EVENT, NOW)
    assert not delivery.ok and delivery.transient
    assert delivery.answer.startswith(f"HTTP {status}")


async def test_no_answer_in_time_is_tried_again(server: FhirServer) -> None:
    server.delay = 5.0
    async with aiohttp.ClientSession() as session:
        slow = FhirAdapter(server.url, token=TOKEN, timeout_seconds=0.2, session=session)
        started = asyncio.get_running_loop().time()
        delivery = await slow.deliver(EVENT, NOW)
    assert asyncio.get_running_loop().time() - started < 3
    assert delivery == type(delivery)(False, "no answer in time", transient=True)


async def test_a_server_that_is_not_there_is_tried_again() -> None:
    # Bound and held, never listening: connections are refused, and no other test process
    # can take the port meanwhile.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        away = FhirAdapter(f"http://127.0.0.1:{port}/fhir", timeout_seconds=2)
        try:
            delivery = await away.deliver(EVENT, NOW)
        finally:
            await away.aclose()
    assert not delivery.ok and delivery.transient
    assert delivery.answer.startswith("connection: ")


@pytest.mark.parametrize("status", [400, 422])
async def test_a_refusal_stands_with_the_servers_diagnostics(
    server: FhirServer, adapter: FhirAdapter, status: int
) -> None:
    said = "Appointment.participant: unknown Device identifier system " + "x" * 300
    server.answer = (
        status,
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": said}],
        },
    )
    delivery = await adapter.deliver(EVENT, NOW)
    assert not delivery.ok and not delivery.transient
    reason = "Bad Request" if status == 400 else "Unprocessable Entity"
    assert delivery.answer == f"HTTP {status} {reason} (processing)"
    # The server's own words may quote a value: kept masked (their shape only).
    assert (delivery.said, len(delivery.shown)) == (said[:200], len(delivery.answer) + 202)
    assert delivery.shown.startswith(f"{delivery.answer}: xxxxxxxxxxx.xxxxxxxxxxx: xxxxxxx ")


async def test_a_refusal_without_an_operation_outcome_gives_the_status(
    server: FhirServer, adapter: FhirAdapter
) -> None:
    server.answer = (403, None)
    delivery = await adapter.deliver(replace(EVENT, kind=OutboundKind.CANCELLED), NOW)
    assert delivery == type(delivery)(False, "HTTP 403 Forbidden", transient=False)


async def test_an_appointment_fhir_refuses_is_not_sent_and_names_no_patient_data(
    server: FhirServer, adapter: FhirAdapter
) -> None:
    delivery = await adapter.deliver(replace(EVENT, exam_code=""), NOW)
    assert not delivery.ok and not delivery.transient
    assert delivery.answer == "not valid FHIR R4: Coding.code"
    assert server.requests == []


async def test_the_adapter_closes_only_the_session_it_made(server: FhirServer) -> None:
    own = FhirAdapter(server.url, token=TOKEN)
    assert own.name == "fhir"
    assert (await own.deliver(EVENT, NOW)).ok
    await own.aclose()
    async with aiohttp.ClientSession() as session:
        given = FhirAdapter(server.url, session=session)
        await given.deliver(replace(EVENT, kind=OutboundKind.MOVED), NOW)
        await given.aclose()
        assert not session.closed
    assert "Authorization" not in server.requests[-1].headers  # no token: none sent


# --- from the booking to the hospital's FHIR server --------------------------------------

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _tell(env: ClinicEnv, adapter: FhirAdapter) -> list[bool]:
    """Deliver every FHIR event in order, as the sender would."""
    async with env.uow() as uow:
        events = list(
            await uow.session.scalars(
                select(OutboundEvent)
                .where(OutboundEvent.adapter == "fhir")
                .order_by(OutboundEvent.id)
            )
        )
        views = [await event_view(uow, event) for event in events]
    return [(await adapter.deliver(v, NOW)).ok for v in views if v is not None]


async def test_a_bookings_changes_reach_the_fhir_server_as_one_appointment(
    env: ClinicEnv, server: FhirServer, adapter: FhirAdapter
) -> None:
    told = replace(env.policy, outbound=("fhir",))
    async with env.uow(told) as uow:
        dept = await build_department(uow)
        patients = [await add_patient(uow, n) for n in (1, 2, 3)]
        me, other, third = (Actor.patient(p) for p in patients)
        referrals = [await approved_referral(uow, p, dept.ct_brain) for p in patients]
        held = await hold_slot(uow, me, referrals[0], dept.ct.id, at(MONDAY, 9))
        first = await confirm_booking(uow, me, held.id)
        moved_hold = await reschedule_hold(uow, me, first.id, dept.ct.id, at(TUESDAY, 9))
        moved = await confirm_booking(uow, me, moved_hold.id)
        hold = await hold_slot(uow, other, referrals[1], dept.ct.id, at(TUESDAY, 11))
        cancelled = await confirm_booking(uow, other, hold.id)
        await cancel_booking(uow, RECEPTION, cancelled.id, reason="staff")
        hold = await hold_slot(uow, third, referrals[2], dept.ct.id, at(MONDAY, 10))
        missed = await confirm_booking(uow, third, hold.id)
        await uow.commit()
    env.clock.set(at(TUESDAY, 8, 50))
    async with env.uow(told) as uow:
        await check_in(uow, RECEPTION, moved.id, accession_number="RAD-2001")
        await mark_no_show(uow, RECEPTION, missed.id)
        await uow.commit()
    assert await _tell(env, adapter) == [True] * 7
    assert [(r.method, r.appointment is not None) for r in server.requests] == [
        ("POST", True), ("PUT", True), ("POST", True), ("PUT", True), ("POST", True),
        ("PUT", True), ("PUT", True),
    ]  # fmt: skip
    kept = {key: resource for key, (_, resource) in server.store.items()}
    assert set(kept) == {f"{BOOKING_SYSTEM}|{b.code}" for b in (first, cancelled, missed)}
    mine = kept[f"{BOOKING_SYSTEM}|{first.code}"]  # the first code, through the move
    assert mine.status == "arrived"
    assert mine.start is not None and mine.start == at(TUESDAY, 9)
    assert mine.identifier is not None
    assert [i.value for i in mine.identifier] == [first.code, "RAD-2001"]
    assert mine.participant is not None
    actors = {p.actor.type: p.actor for p in mine.participant if p.actor is not None}
    assert actors["Patient"].identifier is not None
    assert actors["Patient"].identifier.value == nth_national_code(1)
    assert actors["Patient"].display == "علی رضایی"
    assert actors["Practitioner"].display == "پذیرش"  # reception admitted the patient
    assert actors["Device"].display == "سی‌تی‌اسکن"
    assert kept[f"{BOOKING_SYSTEM}|{cancelled.code}"].status == "cancelled"
    assert kept[f"{BOOKING_SYSTEM}|{missed.code}"].status == "noshow"
    assert set(STATUS.values()) >= {r.status for r in kept.values() if r.status}
