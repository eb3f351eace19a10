"""What a hospital system answered to a booking change is kept for staff without the patient
in it: a RIS (the ``hl7`` package's MLLP server) and a FHIR server that quote the patient's
national code, name and mobile in their refusal; staff still read the ACK code, the error
codes and where the receiver found fault."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import aiohttp
import hl7
import pytest
from aiohttp import web
from hl7.mllp import start_hl7_server
from sqlalchemy import select

from clinic import outbound
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.models import OutboundEvent
from clinic.text import to_persian_digits
from notifier.hl7_reader import parse_message
from notifier.outbound.answers import fhir_outcome, hl7_errors
from notifier.outbound.base import Delivery
from notifier.outbound.fhir import FhirAdapter
from notifier.outbound.mllp_adapter import MllpAdapter
from notifier.outbound.sender import OutboundSender
from notifier.outbound.siu import build_siu, parse_ack
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.factories import national_code as code_of
from tests.notifier.test_outbound_sender import MONDAY, at

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from hl7.mllp import HL7StreamReader, HL7StreamWriter

    from notifier.outbound.base import OutboundAdapter
    from tests.conftest import ClinicEnv

PATIENT = 1
NATIONAL_CODE, MOBILE = code_of(PATIENT), f"0912{PATIENT:07d}"
# Everything of the patient's the receivers below quote back (add_patient's name: علی رضایی).
PERSONAL = (NATIONAL_CODE, MOBILE, MOBILE[1:], "علی", "رضایی", to_persian_digits(NATIONAL_CODE))


@dataclass
class QuotingRis:
    """A RIS that refuses every message, quoting the patient it names: ``v25`` (MSA-3 text,
    ERR-2 location, ERR-3 code, ERR-8 user message; two ERRs) or ``v23`` (ERR-1 ELD, the
    code inside it)."""

    form: str = "v25"
    port: int = 0
    raw_acks: list[bytes] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> QuotingRis:
        self._server = await start_hl7_server(self._client, "127.0.0.1", 0, encoding="utf-8")
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _client(self, reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        try:
            while not reader.at_eof():
                message = hl7.parse((await reader.readblock()).decode("utf-8"))
                ack = self._ack(message)
                self.raw_acks.append(ack)
                writer.write(b"\x0b" + ack + b"\x1c\x0d")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def _ack(self, message: hl7.Message) -> bytes:
        control = str(message.segment("MSH")[10])
        pid = message.segment("PID")
        who = f"{pid[5][0][1]} {pid[5][0][0]} {pid[3][0][0]} {pid[13][0][0]}"
        head = f"MSH|^~\\&|RIS|HOSPITAL|RADYAR|RADYAR|20261201090000||ACK|A{control}|P|2.5.1"
        if self.form == "v23":
            errs = [f"ERR|PID^1^3^204&Unknown key identifier for {who}&HL70357"]
        else:
            errs = [
                f"ERR||PID^1^3|204^Unknown key identifier {who}^HL70357|E||||no patient {who}",
                "ERR||OBR^2^18^1^1|103^Table value not found^HL70357|E",
            ]
        text = f"Patient {who} is not known here"
        return "\r".join([head, f"MSA|AR|{control}|{text}", *errs]).encode("utf-8")


async def _booked(env: ClinicEnv, adapter: str) -> int:
    """Patient 1 books CT on Monday 09:00 with ``adapter`` told; the booking's id."""
    async with env.uow(replace(env.policy, outbound=(adapter,))) as uow:
        dept = await build_department(uow)
        for n in range(PATIENT + 1):
            pid = await add_patient(uow, n)
        referral = await approved_referral(uow, pid, dept.ct_brain)
        me = Actor.patient(pid)
        held = await hold_slot(uow, me, referral, dept.ct.id, at(MONDAY, 9))
        booking = await confirm_booking(uow, me, held.id)
        await uow.commit()
        return booking.id


async def _drain(env: ClinicEnv, adapter: OutboundAdapter) -> str:
    """Send the due events once; what staff are shown for the one refused."""
    told = replace(env.policy, outbound=(adapter.name,))
    sender = OutboundSender(lambda: env.uow(told), adapter, idle_seconds=0.01)
    try:
        assert await sender.run_once() == 1
    finally:
        await sender.adapter.aclose()
    async with env.uow() as uow:
        stored = await uow.session.scalar(select(OutboundEvent.answer))
        (listed,) = await outbound.failed(uow, RECEPTION)
    assert stored is not None and listed.answer == stored
    return stored


def _no_patient_in(text: str) -> None:
    for value in PERSONAL:
        assert value not in text, value
    assert "Patient" not in text and "Unknown" not in text  # the receiver's words are masked


async def test_a_ris_refusal_quoting_the_patient_is_kept_with_codes_and_places_only(
    env: ClinicEnv,
) -> None:
    await _booked(env, "hl7_siu")
    ris = await QuotingRis().start()
    try:
        adapter = MllpAdapter("hl7_siu", build_siu, "127.0.0.1", ris.port, connect_seconds=2)
        shown = await _drain(env, adapter)
    finally:
        await ris.stop()
    assert NATIONAL_CODE.encode() in ris.raw_acks[0]  # the RIS did quote the patient
    _no_patient_in(shown)
    code_and_places = (
        "AR 204 (unknown key identifier) at PID-3; 103 (table value not found) at OBR[2]-18.1"
    )
    assert shown.startswith(code_and_places + ": ")
    # The receiver's text keeps its shape: words as x, the national code as ten #.
    assert shown.removeprefix(code_and_places + ": ") == (
        "xxxxxxx *** ***** ########## ########### xx xxx xxxxx xxxx"
    )


async def test_an_hl7_v2_3_error_names_its_code_and_place_from_err_1(env: ClinicEnv) -> None:
    await _booked(env, "hl7_siu")
    ris = await QuotingRis("v23").start()
    try:
        adapter = MllpAdapter("hl7_siu", build_siu, "127.0.0.1", ris.port, connect_seconds=2)
        shown = await _drain(env, adapter)
    finally:
        await ris.stop()
    _no_patient_in(shown)
    assert shown.startswith("AR 204 (unknown key identifier) at PID-3: xxxxxxx ")


def test_codes_and_places_that_are_not_such_are_masked_or_left_out() -> None:
    who = f"Rezaei {NATIONAL_CODE}"
    raw = "\r".join(
        [
            "MSH|^~\\&|RIS|H|RADYAR|R|20261201090000||ACK|A1|P|2.5.1",
            f"MSA|AE|RDY1|{who}",
            f"ERR||{who}^1^3|{NATIONAL_CODE}^{who}|E||||{who}",
            "ERR||pid^x^y|Ali|E",
            "ERR|||E42^local code|E",
        ]
    ).encode()
    ack = parse_ack(raw)
    assert ack.error == NATIONAL_CODE  # still what decides a resend
    assert ack.errors == ("##########", "xxx", "E42")
    shown = Delivery(False, " ".join([ack.code, "; ".join(ack.errors)]), said=ack.text).shown
    _no_patient_in(shown)
    assert "Rezaei" not in shown
    assert hl7_errors(parse_message(raw).segments) == ack.errors


@dataclass
class RefusingFhir:
    """A FHIR server refusing every Appointment with an OperationOutcome quoting its patient."""

    url: str = ""
    bodies: list[dict[str, object]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        sent = json.loads(await request.text())
        patient = sent["participant"][0]["actor"]
        said = f"Patient {patient['display']} ({patient['identifier']['value']}) is unknown"
        outcome: dict[str, object] = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error", "code": "not-found", "diagnostics": said,
                    "expression": ["Appointment.participant[0].actor",
                                   f"Patient.identifier.where(value='{NATIONAL_CODE}')"],
                },
                {"severity": "error", "code": "business-rule",
                 "details": {"text": f"no referral for {patient['display']}"}},
            ],
        }  # fmt: skip
        self.bodies.append(outcome)
        return web.json_response(outcome, status=422, content_type="application/fhir+json")


@pytest.fixture
async def fhir() -> AsyncIterator[RefusingFhir]:
    fake = RefusingFhir()
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
        await runner.cleanup()


async def test_a_fhir_refusal_quoting_the_patient_keeps_issue_codes_and_paths(
    env: ClinicEnv, fhir: RefusingFhir
) -> None:
    await _booked(env, "fhir")
    async with aiohttp.ClientSession() as session:
        adapter = FhirAdapter(fhir.url, timeout_seconds=5, session=session)
        shown = await _drain(env, adapter)
    assert NATIONAL_CODE in json.dumps(fhir.bodies[0], ensure_ascii=False)
    _no_patient_in(shown)
    kept = (
        "HTTP 422 Unprocessable Entity (not-found at Appointment.participant[0].actor; "
        "business-rule)"
    )
    assert shown.startswith(kept + ": xxxxxxx ")
    assert "##########" in shown


def test_an_answer_that_is_not_an_operation_outcome_names_nothing() -> None:
    assert fhir_outcome(b"<html>Patient Rezaei</html>") == ("", "")
    assert fhir_outcome(b'{"resourceType": "Patient", "name": "x"}') == ("", "")
    assert Delivery(False, "HTTP 403 Forbidden").shown == "HTTP 403 Forbidden"
