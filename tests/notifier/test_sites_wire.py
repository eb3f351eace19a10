"""Two hospitals' RISes over the real wire (MLLP on loopback, the signed webhook over HTTP): a
message reaches the booking at the site it names, and one that names none of them is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from clinic.errors import NotFound
from clinic.hospital_inbox import get_rejected, mark_reviewed, rejected_messages, waiting_counts
from clinic.models import Booking, RejectedMessage, Report
from clinic.outbox import pending
from notifier.his_webhook import WebhookConfig
from notifier.hl7 import make_handler
from notifier.mllp import send_mllp, start_mllp_server
from notifier.web import create_app
from tests.factories import RECEPTION, add_patient
from tests.notifier.test_hl7 import Ack, message, read_ack, rejected, unmatched
from tests.notifier.test_webhook import SECRET, His
from tests.two_sites import SITE_B_RIS, TwoSites, admitted_at_each, at, booked, build_two_sites

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import ClinicEnv

UNKNOWN_FACILITY = "unknown sending facility (MSH-4); not one of our sites"


@pytest.fixture
async def port(env: ClinicEnv) -> AsyncIterator[int]:
    server = await start_mllp_server(make_handler(env.uow), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def his(env: ClinicEnv) -> AsyncIterator[His]:
    app = create_app(env.uow, WebhookConfig(secret=SECRET))
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        yield His(env, server, session)


def sent_by(raw: bytes, facility: str) -> bytes:
    """The fixture message with MSH-4 (sending facility) set to ``facility``."""
    msh, rest = raw.split(b"\r", 1)
    fields = msh.split(b"|")
    fields[3] = facility.encode()
    return b"|".join(fields) + b"\r" + rest


async def send(port: int, raw: bytes) -> Ack:
    return read_ack(await send_mllp("127.0.0.1", port, raw, timeout=10))


async def one_each(env: ClinicEnv, accession: str) -> tuple[TwoSites, Booking, Booking]:
    """A booking admitted at each site, numbered ``accession``; the clock at 13:00 after."""
    found = await admitted_at_each(env, accession)
    env.clock.set(at(13))
    return found


async def told(env: ClinicEnv, kind: str) -> list[int | None]:
    """The bookings whose patient has a ``kind`` notice waiting."""
    async with env.uow() as uow:
        return [n.booking_id for n in await pending(uow, kind=kind)]


async def final_reports(env: ClinicEnv) -> int:
    async with env.uow() as uow:
        found = await uow.session.scalar(
            select(func.count()).select_from(Report).where(Report.final_at.is_not(None))
        )
        return int(found or 0)


async def test_a_report_from_site_b_reaches_site_b_patient_only(env: ClinicEnv, port: int) -> None:
    _two, at_a, at_b = await one_each(env, "RAD-1001")
    raw = message("oru_r01_final.hl7", patient=1)
    ack = await send(port, sent_by(raw, SITE_B_RIS.lower()))  # facility names match in any case
    assert (ack.code, ack.error) == ("AA", "")
    assert await told(env, "report_ready") == [at_b.id]
    # Site A's RIS then reports its own exam with that number: its own patient is told.
    ack = await send(port, sent_by(message("oru_r01_final.hl7"), "BOJNURD-RIS"))
    assert ack.code == "AA"
    assert await told(env, "report_ready") == [at_b.id, at_a.id]


async def test_a_message_from_no_known_facility_is_refused_and_kept(
    env: ClinicEnv, port: int
) -> None:
    await one_each(env, "RAD-1001")
    raw = message("oru_r01_final.hl7", patient=1)
    acks = [await send(port, sent_by(raw, name)) for name in ("KHALKHAL-RIS", "")]
    assert [(a.code, a.error, a.control_id) for a in acks] == [("AR", "103", "RIS00001001")] * 2
    assert acks[0].text == UNKNOWN_FACILITY
    assert await rejected(env) == [UNKNOWN_FACILITY] * 2
    assert await told(env, "report_ready") == []
    assert await unmatched(env) == []
    assert await final_reports(env) == 0


async def test_an_order_from_site_b_numbers_the_booking_there(env: ClinicEnv, port: int) -> None:
    # The same patient has a CT at each hospital on Monday; site B's order fits only its own.
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        patient = await add_patient(uow, 0)
        at_a = await booked(uow, patient, two.dept.ct_brain, two.dept.ct, at(9))
        at_b = await booked(uow, patient, two.dept.ct_contrast, two.ct_b, at(10))
        await uow.commit()
    order = sent_by(message("orm_o01.hl7", accession="ORD-1"), SITE_B_RIS)
    assert (await send(port, order)).code == "AA"
    async with env.uow() as uow:
        numbered = {
            (r.site_id, r.accession_number): r.booking_id
            for r in await uow.session.scalars(select(Report))
        }
    assert numbered == {(two.site_b, "ORD-1"): at_b.id}
    report = sent_by(message("oru_r01_final.hl7", accession="ORD-1"), SITE_B_RIS)
    assert (await send(port, report)).code == "AA"
    assert await told(env, "report_ready") == [at_b.id]
    assert at_a.id not in await told(env, "report_ready")


async def test_the_webhook_applies_at_the_site_named_and_refuses_the_rest(
    env: ClinicEnv, his: His
) -> None:
    _two, _at_a, at_b = await one_each(env, "HIS-501")
    body = {"accession_number": "HIS-501", "status": "final", "site": SITE_B_RIS}
    assert await his.post(body) == (200, {"outcome": "applied"})
    assert await told(env, "report_ready") == [at_b.id]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"accession_number": "HIS-501", "status": "final"}, "missing_field"),
        ({**body, "site": "KHALKHAL-RIS"}, "unknown_site"),
        ({**body, "site": 2}, "invalid_field"),
    ]
    for wrong, code in refused:
        env.clock.advance(seconds=1)  # a fresh signature each time
        status, answer = await his.post(wrong)
        assert (status, answer["error"]) == (422, code), wrong
        assert answer["kept_as"] > 0
    async with env.uow() as uow:
        kept = await uow.session.scalar(select(func.count()).select_from(RejectedMessage))
    assert kept == len(refused)
    assert await told(env, "report_ready") == [at_b.id]


async def test_a_refused_message_is_seen_by_its_senders_site_only(
    env: ClinicEnv, port: int
) -> None:
    two, _, _ = await one_each(env, "RAD-1001")
    unsupported = message("oru_r01_final.hl7").replace(b"ORU^R01", b"ADT^A01", 1)
    for facility in (SITE_B_RIS, "KHALKHAL-RIS"):
        assert (await send(port, sent_by(unsupported, facility))).code == "AR"
    async with env.uow() as uow:
        kept = {m.site_id: m.id for m in await rejected_messages(uow, RECEPTION)}
        assert set(kept) == {two.site_b, None}  # Shirvan's, and one that named no site of ours
        for staff, seen in (
            (two.reception_at(two.site_a), []),
            (two.reception_at(two.site_b), [kept[two.site_b]]),
        ):
            assert [m.id for m in await rejected_messages(uow, staff)] == seen
            assert (await waiting_counts(uow, staff))[1] == len(seen)
        staff_a = two.reception_at(two.site_a)
        for message_id in kept.values():
            with pytest.raises(NotFound):
                await get_rejected(uow, staff_a, message_id)
        with pytest.raises(NotFound):
            await mark_reviewed(uow, staff_a, kept[two.site_b])
