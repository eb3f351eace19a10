"""HL7 v2 reports and orders over a real MLLP connection, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import hl7
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.db import make_engine, make_sessionmaker
from clinic.jalali import TEHRAN
from clinic.models import Booking, Exam, RejectedMessage, Report, UnmatchedEvent
from clinic.outbox import pending
from clinic.text import normalize_letters
from clinic.uow import UnitOfWork
from notifier.hl7 import handle_message, make_handler, make_too_large
from notifier.hl7_reader import Encoding, Hl7Error, parse_message, parse_ts
from notifier.mllp import MllpDecoder, MllpLimits, frame, send_mllp, start_mllp_server
from tests.factories import (
    RECEPTION,
    Department,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import ClinicEnv

FIXTURES = Path(__file__).parents[1] / "fixtures" / "hl7"
MONDAY = date(2026, 11, 30)
NAMES = ("Rezaei", "Maryam", "رضایی", "مریم", "علی")


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


def message(name: str, *, accession: str = "RAD-1001", patient: int = 0) -> bytes:
    """A fixture with its placeholders filled (bytes as read, so line endings stay)."""
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    for key, value in (
        ("{ACCESSION}", accession),
        ("{NATIONAL_CODE}", national_code(patient)),
        ("{DATE}", MONDAY.strftime("%Y%m%d")),
    ):
        text = text.replace(key, value)
    return text.encode("utf-8")


def in_charset(raw: bytes, declared: str, codec: str, name: str = "") -> bytes:
    """A UTF-8 fixture with MSH-18 ``declared`` (empty: none) and PID-5 ``name``, in ``codec``."""
    text = raw.decode("utf-8").replace("||UNICODE UTF-8", f"||{declared}" if declared else "")
    return (text.replace("Rezaei^Maryam", name) if name else text).encode(codec)


def pid_name(raw: bytes) -> str:
    """PID-5 (family^given^middle) as the reader decodes it."""
    pid = next(seg for seg in parse_message(raw).segments if seg.name == "PID")
    return "^".join(pid.components(5))


@dataclass
class Ack:
    """An ACK read with python-hl7, an independent parser, so its form is checked too."""

    code: str
    control_id: str
    text: str
    error: str
    msh: list[str]


def read_ack(raw: bytes) -> Ack:
    assert b"\n" not in raw
    parsed = hl7.parse(raw.decode("utf-8"))
    msa = parsed.segment("MSA")
    err = [str(s[3][0][0]) for s in parsed if str(s[0]) == "ERR"]
    msh = [str(f) for f in parsed.segment("MSH")]
    return Ack(str(msa[1]), str(msa[2]), str(msa[3]), err[0] if err else "", msh)


@pytest.fixture
async def port(env: ClinicEnv) -> AsyncIterator[int]:
    server = await start_mllp_server(make_handler(env.uow), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def send(port: int, raw: bytes) -> Ack:
    return read_ack(await send_mllp("127.0.0.1", port, raw, timeout=10))


async def book(
    uow: UnitOfWork, dept: Department, patient: int, exam: Exam, start: datetime
) -> Booking:
    me = Actor.patient(patient)
    referral = await approved_referral(uow, patient, exam)
    return await confirm_booking(
        uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
    )


async def clinic(env: ClinicEnv, *admitted: str | None, confirmed: int = 0) -> list[Booking]:
    """Patients 0.. with a CT booking each on Monday; the first ones admitted.

    ``admitted`` gives each admitted booking's accession number (None: admitted without one);
    ``confirmed`` more patients are booked but not admitted.
    """
    async with env.uow() as uow:
        dept = await build_department(uow)
        bookings = []
        for n in range(len(admitted) + confirmed):
            patient = await add_patient(uow, n)
            bookings.append(await book(uow, dept, patient, dept.ct_brain, at(9, 15 * n)))
        for booking, accession in zip(bookings, admitted, strict=False):
            await check_in(uow, RECEPTION, booking.id, accession_number=accession)
        await uow.commit()
    env.clock.set(at(13))
    return bookings


async def notices(env: ClinicEnv, kind: str) -> list[int]:
    async with env.uow() as uow:
        return [n.recipient_id for n in await pending(uow, kind=kind)]


async def unmatched(env: ClinicEnv) -> list[str]:
    """Events kept for staff, as ``kind:reason``."""
    async with env.uow() as uow:
        found = await uow.session.scalars(select(UnmatchedEvent).order_by(UnmatchedEvent.id))
        return [f"{r.kind}:{r.payload.get('reason', '')}" for r in found]


async def rejected(env: ClinicEnv) -> list[str]:
    """Reasons of the messages kept for staff."""
    return [reason for reason, _ in await rejected_bodies(env)]


async def rejected_bodies(env: ClinicEnv) -> list[tuple[str, str]]:
    """Reasons and bodies of the messages kept for staff."""
    async with env.uow() as uow:
        found = await uow.session.scalars(select(RejectedMessage).order_by(RejectedMessage.id))
        return [(r.reason, r.body) for r in found]


async def reports(env: ClinicEnv) -> dict[str, int | None]:
    async with env.uow() as uow:
        return {
            r.accession_number: r.booking_id for r in await uow.session.scalars(select(Report))
        }


# Reports (ORU^R01)


async def test_a_final_report_notifies_the_patient_once(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    ack = await send(port, message("oru_r01_final.hl7"))
    assert (ack.code, ack.control_id, ack.error) == ("AA", "RIS00001001", "")
    # Sender and receiver swapped; the trigger, processing id and version echoed.
    assert ack.msh[3:7] == ["RADYAR", "IMAM_HOSP", "RIS", "IMAM_HOSP_RAD"]
    assert ack.msh[7] == "20261130130000+0330"
    assert (ack.msh[9], ack.msh[11], ack.msh[12]) == ("ACK^R01^ACK", "P", "2.5.1")
    assert ack.msh[10] not in ("", "RIS00001001")
    assert await notices(env, "report_ready") == [booking.patient_id]
    again = await send(port, message("oru_r01_final.hl7"))
    assert again.code == "AA"
    assert await notices(env, "report_ready") == [booking.patient_id]


async def test_corrected_notifies_and_preliminary_does_not(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    assert (await send(port, message("oru_r01_preliminary.hl7"))).code == "AA"
    assert await notices(env, "report_ready") == []
    assert (await send(port, message("oru_r01_corrected.hl7"))).code == "AA"
    assert await notices(env, "report_corrected") == [booking.patient_id]
    assert await notices(env, "report_ready") == []


async def test_an_unknown_accession_waits_for_reception(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, confirmed=1)  # booked, not yet admitted
    ack = await send(port, message("oru_r01_final.hl7", accession="RAD-2002"))
    assert (ack.code, ack.error) == ("AE", "204")
    assert "kept for staff" in ack.text
    assert await unmatched(env) == ["final:"]
    assert await notices(env, "report_ready") == []
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number="RAD-2002")
        await uow.commit()
    assert await notices(env, "report_ready") == [booking.patient_id]


async def test_an_unknown_accession_joins_the_one_admitted_booking(
    env: ClinicEnv, port: int
) -> None:
    (booking,) = await clinic(env, None)
    # Accession in OBR-3 only, modality only as OBR-4's code; the patient by PID-3.
    ack = await send(port, message("oru_r01_filler_only.hl7", accession="RAD-3003"))
    assert ack.code == "AA"
    assert await reports(env) == {"RAD-3003": booking.id}
    assert await notices(env, "report_ready") == [booking.patient_id]


async def test_two_admitted_bookings_are_not_guessed(env: ClinicEnv, port: int) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        first = await book(uow, dept, patient, dept.ct_brain, at(9))
        second = await book(uow, dept, patient, dept.ct_contrast, at(10))
        for booking in (first, second):
            await check_in(uow, RECEPTION, booking.id)
        await uow.commit()
    ack = await send(port, message("oru_r01_final.hl7", accession="RAD-3004"))
    assert ack.code == "AE"
    assert await unmatched(env) == ["final:ambiguous"]
    assert await notices(env, "report_ready") == []
    assert await reports(env) == {}


async def test_line_feeds_bom_escapes_and_persian_names(env: ClinicEnv, port: int) -> None:
    bookings = await clinic(env, "LF-1", "CRLF-2", "FA-3")
    crlf = message("oru_r01_final.hl7", accession="CRLF-2", patient=1).replace(b"\r", b"\r\n")
    acks = [
        await send(port, message("oru_r01_newlines.hl7", accession="LF-1", patient=0)),
        await send(port, b"\xef\xbb\xbf" + crlf + b"  \r\n\r\n"),
        # The accession number itself written with a hex escape: FA\X2D\3 is FA-3.
        await send(
            port, message("oru_r01_escapes_persian.hl7", accession="FA\\X2D\\3", patient=2)
        ),
    ]
    assert [a.code for a in acks] == ["AA", "AA", "AA"]
    assert await notices(env, "report_ready") == [b.patient_id for b in bookings]


async def test_several_messages_on_one_connection_one_in_single_bytes(
    env: ClinicEnv, port: int
) -> None:
    await clinic(env, "RAD-1001", "RAD-1002")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        frame(message("oru_r01_final.hl7"))
        + frame(message("oru_r01_final.hl7", accession="RAD-1002", patient=1))
    )
    for byte in frame(message("oru_r01_corrected.hl7")):
        writer.write(bytes([byte]))
        await writer.drain()
    decoder = MllpDecoder()
    replies: list[bytes] = []
    async with asyncio.timeout(10):
        while len(replies) < 3:
            replies += decoder.feed(await reader.read(4096))
    writer.close()
    await writer.wait_closed()
    acks = [read_ack(r) for r in replies]
    assert [(a.code, a.control_id) for a in acks] == [
        ("AA", "RIS00001001"),
        ("AA", "RIS00001001"),
        ("AA", "RIS00001002"),
    ]
    assert len(await notices(env, "report_ready")) == 2
    assert len(await notices(env, "report_corrected")) == 1


# Character sets (MSH-18)

# Windows-1256 has پ چ ژ گ ک but no Farsi Yeh ی: this name avoids it (see the reader's docstring).
PERSIAN = "پاکزاد^گلچهره^ژاله"


async def test_a_report_in_windows_1256_notifies_the_patient(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    raw = in_charset(message("oru_r01_final.hl7"), "WINDOWS-1256", "cp1256", PERSIAN)
    assert PERSIAN.encode("utf-8") not in raw
    ack = await send(port, raw)
    assert (ack.code, ack.control_id, ack.error) == ("AA", "RIS00001001", "")
    assert await notices(env, "report_ready") == [booking.patient_id]
    # The same Persian text as when sent in UTF-8.
    utf8 = in_charset(message("oru_r01_final.hl7"), "UNICODE UTF-8", "utf-8", PERSIAN)
    assert pid_name(raw) == pid_name(utf8) == PERSIAN
    # Senders write ی as Arabic Yeh ي in Windows-1256; normalising letters gives the UTF-8 text.
    arabic_yeh = in_charset(message("oru_r01_final.hl7"), "CP1256", "cp1256", "رضايي^مريم")
    assert normalize_letters(pid_name(arabic_yeh)) == "رضایی^مریم"


async def test_a_report_in_iso_8859_6_notifies_the_patient(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    # ISO 8859-6 has Arabic letters only (no پ چ ژ گ ک ی): Kazemi written with ك and ي.
    name = "كاظمي^زهرا"
    raw = in_charset(message("oru_r01_final.hl7"), "8859/6", "iso8859_6", name)
    ack = await send(port, raw)
    assert (ack.code, ack.error) == ("AA", "")
    assert await notices(env, "report_ready") == [booking.patient_id]
    utf8 = in_charset(message("oru_r01_final.hl7"), "", "utf-8", name)  # no MSH-18: UTF-8
    assert pid_name(raw) == pid_name(utf8) == name
    assert normalize_letters(pid_name(raw)) == "کاظمی^زهرا"


async def test_a_report_in_latin_1_is_accepted(env: ClinicEnv, port: int) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    raw = in_charset(message("oru_r01_final.hl7"), "8859/1", "latin-1", "Rézaï^Maryam")
    assert b"R\xe9za\xef^" in raw
    assert (await send(port, raw)).code == "AA"
    assert await notices(env, "report_ready") == [booking.patient_id]
    assert pid_name(raw) == "Rézaï^Maryam"


async def test_bytes_not_in_the_declared_or_an_unsupported_charset_are_rejected(
    env: ClinicEnv, port: int
) -> None:
    await clinic(env, "RAD-1001")
    final = message("oru_r01_final.hl7")
    acks = [
        await send(port, in_charset(final, "UNICODE UTF-8", "latin-1", "Rézaï^Maryam")),
        await send(port, in_charset(final, "", "latin-1", "Rézaï^Maryam")),  # undeclared
        await send(port, in_charset(final, "ASCII", "latin-1", "Rézaï^Maryam")),
        await send(port, in_charset(final, "8859/6", "iso8859_6").replace(b"Rezaei", b"R\xa1")),
        await send(port, in_charset(final, "UNICODE UTF-16", "utf-8")),
        await send(port, in_charset(final, "ISO IR87", "utf-8")),
    ]
    assert [(a.code, a.error) for a in acks] == [("AR", "102")] * 4 + [("AR", "103")] * 2
    # The MSH is ASCII, so even these answer the sender's control id.
    assert {a.control_id for a in acks} == {"RIS00001001"}
    assert acks[4].text == "unsupported character set UNICODE UTF-16"
    assert await rejected(env) == [
        "the message is not UTF-8",
        "the message is not UTF-8",
        "the message is not ASCII",
        "the message is not 8859/6",
        "unsupported character set UNICODE UTF-16",
        "unsupported character set ISO IR87",
    ]
    assert await notices(env, "report_ready") == []


async def test_the_ack_is_utf_8_and_says_so(env: ClinicEnv, port: int) -> None:
    # An ADT (not taken) in Windows-1256, with a Persian sending facility and patient name.
    adt = message("adt_a01.hl7").replace(b"|HIS|IMAM_HOSP|", "|HIS|مرکز امام|".encode())
    adt = adt.replace(b"|2.5.1\r", b"|2.5.1||||||CP1256\r", 1)
    raw = adt.decode("utf-8").replace("Rezaei^Ali", PERSIAN).encode("cp1256")
    reply = await send_mllp("127.0.0.1", port, raw, timeout=10)
    assert "مرکز امام".encode() in reply  # UTF-8, not the sender's Windows-1256
    ack = read_ack(reply)
    assert (ack.code, ack.error, ack.control_id) == ("AR", "200", "HIS00003001")
    assert (ack.msh[6], ack.msh[18]) == ("مرکز امام", "UNICODE UTF-8")
    # Kept for staff in its own character set, readable, and masked: the sending facility
    # (MSH) is there, the patient is not.
    ((reason, body),) = await rejected_bodies(env)
    assert reason == "unsupported message type"
    assert "|HIS|مرکز امام|" in body and "ADT^A01^ADT_A01|HIS00003001|" in body
    assert PERSIAN.split("^")[0] not in body and national_code(0) not in body
    assert "\rPID|1||***^^^***^***~***^^^***^***||***^***^***||***|***" in body
    # A UTF-8 report's ACK declares UTF-8 too.
    utf8 = await send(port, message("oru_r01_final.hl7"))
    assert utf8.msh[18] == "UNICODE UTF-8"


# Orders (ORM^O01, OMI^O23)


@pytest.mark.parametrize("fixture", ["orm_o01.hl7", "omi_o23.hl7"])
async def test_an_order_links_the_booking_then_its_report_notifies(
    env: ClinicEnv, port: int, fixture: str
) -> None:
    (booking,) = await clinic(env, confirmed=1)
    ack = await send(port, message(fixture, accession="ORD-4004"))
    assert (ack.code, ack.msh[9]) == ("AA", "ACK^" + fixture[4:7].upper() + "^ACK")
    assert await reports(env) == {"ORD-4004": booking.id}
    assert (await send(port, message(fixture, accession="ORD-4004"))).code == "AA"  # again
    assert (await send(port, message("oru_r01_final.hl7", accession="ORD-4004"))).code == "AA"
    assert await notices(env, "report_ready") == [booking.patient_id]


async def test_an_order_without_a_booking_is_kept(env: ClinicEnv, port: int) -> None:
    await clinic(env, confirmed=1)
    ack = await send(port, message("orm_o01.hl7", accession="ORD-5005", patient=7))
    assert (ack.code, ack.error) == ("AE", "204")
    assert "no booking fits" in ack.text
    assert await unmatched(env) == ["order:no booking"]


async def test_an_order_that_fits_two_bookings_is_not_guessed(env: ClinicEnv, port: int) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        await book(uow, dept, patient, dept.ct_brain, at(9))
        await book(uow, dept, patient, dept.ct_contrast, at(10))
        await uow.commit()
    ack = await send(port, message("omi_o23.hl7", accession="ORD-6006"))
    assert ack.code == "AE"
    assert "several bookings" in ack.text
    assert await unmatched(env) == ["order:ambiguous"]
    assert await reports(env) == {}


async def test_a_cancelled_order_links_nothing(env: ClinicEnv, port: int) -> None:
    await clinic(env, confirmed=1)
    cancel = message("orm_o01.hl7", accession="ORD-7007").replace(b"ORC|NW|", b"ORC|CA|")
    assert (await send(port, cancel)).code == "AA"
    assert await reports(env) == {}
    assert await unmatched(env) == []


# What we do not take


async def test_garbage_is_rejected_and_kept(env: ClinicEnv, port: int) -> None:
    ack = await send(port, message("garbage.hl7"))
    assert (ack.code, ack.control_id, ack.error) == ("AR", "", "100")
    assert ack.msh[3] == "RADYAR"
    assert await rejected(env) == ["no MSH segment"]


async def test_what_cannot_be_used_is_rejected_and_kept(env: ClinicEnv, port: int) -> None:
    await clinic(env, "RAD-1001")
    final = message("oru_r01_final.hl7")
    no_accession = message("oru_r01_final.hl7", accession="")
    for other in (b"P-55012^HIS", b"F-55012^RIS"):
        no_accession = no_accession.replace(other, b"")
    acks = [
        await send(port, final.replace(b"Rezaei", b"R\xe9za\xefi")),  # Latin-1, not UTF-8
        await send(port, message("adt_a01.hl7")),
        await send(port, no_accession),
        await send(port, message("oru_r01_final.hl7", accession="<script>")),
    ]
    assert [(a.code, a.error) for a in acks] == [
        ("AR", "102"),
        ("AR", "200"),
        ("AR", "101"),
        ("AR", "102"),
    ]
    assert acks[1].control_id == "HIS00003001"
    assert acks[1].msh[9] == "ACK^A01^ACK"
    assert await rejected(env) == [
        "the message is not UTF-8",
        "unsupported message type",
        "no accession number in OBR 1",
        "malformed accession number",
    ]
    assert await notices(env, "report_ready") == []


async def test_the_ack_never_carries_control_characters_from_the_control_id(
    env: ClinicEnv,
) -> None:
    # MSH-10 with MLLP's own framing bytes, raw and as HL7 hex escapes, and other C0 ones:
    # echoed as they are, they would end the sender's ACK frame early.
    for control_id in (b"AB\x1cCD\x0bEF\x00G\x7f", b"AB\\X1C\\CD\\X0B\\EF\\X07\\G"):
        raw = message("adt_a01.hl7").replace(b"|HIS00003001|", b"|" + control_id + b"|")
        reply = await handle_message(env.uow, raw)
        assert not any((b < 0x20 and b != 0x0D) or b == 0x7F for b in reply), reply
        ack = read_ack(reply)
        assert (ack.code, ack.error) == ("AR", "200")
        assert ack.control_id.replace(" ", "") == "ABCDEFG"  # each one became a space


async def test_a_database_failure_answers_ae_and_keeps_the_message(env: ClinicEnv) -> None:
    await clinic(env, "RAD-1001")
    failed: list[bool] = []

    class CommitFails(UnitOfWork):
        async def commit(self) -> None:
            failed.append(True)
            raise OperationalError("COMMIT", {}, ConnectionResetError())

    def uow() -> UnitOfWork:
        if failed:
            return env.uow()
        return CommitFails(env.sessionmaker, env.clock, env.policy)

    ack = read_ack(await handle_message(uow, message("oru_r01_final.hl7")))
    assert (ack.code, ack.error, ack.text) == ("AE", "207", "try again later")
    assert await notices(env, "report_ready") == []  # rolled back
    assert await rejected(env) == ["not processed (OperationalError); the sender should resend"]
    assert read_ack(await handle_message(env.uow, message("oru_r01_final.hl7"))).code == "AA"


async def test_no_database_at_all_still_answers(env: ClinicEnv, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'clinic.db'}")
    try:
        maker = make_sessionmaker(engine)
        ack = read_ack(
            await handle_message(
                lambda: UnitOfWork(maker, env.clock, env.policy), message("oru_r01_final.hl7")
            )
        )
    finally:
        await engine.dispose()
    assert (ack.code, ack.control_id) == ("AE", "RIS00001001")


async def test_logs_carry_no_personal_data(
    env: ClinicEnv, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # aiosqlite's own DEBUG lines echo SQL parameters; deployments keep it at INFO.
    caplog.set_level(logging.INFO, logger="aiosqlite")
    await clinic(env, "RAD-1001", None)
    for raw in (
        message("oru_r01_final.hl7"),
        message("oru_r01_escapes_persian.hl7", accession="RAD-9", patient=1),
        message("oru_r01_final.hl7", accession="RAD-8", patient=3),
        message("orm_o01.hl7", accession="ORD-8", patient=4),
        message("oru_r01_final.hl7").replace(b"Rezaei", b"R\xe9zai"),
        message("garbage.hl7"),
        message("oru_r01_final.hl7", accession="<b>"),
    ):
        await send(port, raw)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "RIS00001001 ORU^R01: AA, 1 accession numbers" in logged
    for secret in (*NAMES, *(national_code(n) for n in range(5)), "09120000000"):
        assert secret not in logged


# The reader on its own


def test_escapes_and_separators() -> None:
    enc = Encoding()
    assert enc.unescape(r"a\F\b\S\c\T\d\R\e\E\f\X41C3A9\g\H\h\.br\i") == "a|b^c&d~e\\fAégh\ni"
    assert enc.unescape("broken \\X4\\ tail \\") == "broken  tail \\"
    custom = parse_message(b"MSH#:*/%#A#B#C#D#20261130##ORU:R01#9#P#2.5.1\rPID###X:1*Y:2##N/F/")
    pid = custom.segments[1]
    assert (pid.get(3, 1, 2), pid.get(5)) == ("Y", "N#")


def test_msh_18_choices() -> None:
    head = b"MSH|^~\\&|RIS|H|RADYAR|H|20261130||ORU^R01|9|P|2.5.1|||AL|NE||"
    pid = "\rPID|1||1||پاکزاد \\XE1\\".encode("cp1256")
    # Upper or lower case, surrounding spaces, and only the first repetition: the second names
    # an ISO 2022 alternate set, which we do not switch to.
    for declared in (b"CP1256", b"windows-1256", b" Arabic ", b"CP1256~ISO IR87"):
        msg = parse_message(head + declared + pid)
        assert msg.segments[1].get(5) == "پاکزاد ل"  # \XE1\ read as Windows-1256 too
    for declared in (b"8859/1", b"8859/15", b"8859/9"):
        msg = parse_message(head + declared + b"\rPID|1||1||R\xe9za\xef")
        assert msg.segments[1].get(5) == "Rézaï"
    with pytest.raises(Hl7Error) as err:
        parse_message(head + b"8859/16" + pid)
    assert (err.value.error, err.value.where) == (103, "MSH^1^18")
    assert err.value.msh is not None
    assert err.value.msh.get(10) == "9"


def test_timestamps() -> None:
    assert parse_ts("20261130") == datetime(2026, 11, 29, 20, 30, tzinfo=UTC)
    assert parse_ts("202611301230") == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert parse_ts("20261130123015.25+0000") == datetime(2026, 11, 30, 12, 30, 15, tzinfo=UTC)
    assert parse_ts("20261130123015-0500") == datetime(2026, 11, 30, 17, 30, 15, tzinfo=UTC)
    for bad in ("", "2026113", "20261330", "20261130T1230", "202611301230+9900", "۲۰۲۶۱۱۳۰"):
        assert parse_ts(bad) is None


async def test_a_message_over_the_limit_gets_an_ar_and_is_kept_for_staff(env: ClinicEnv) -> None:
    limits = MllpLimits(max_frame=2048)
    server = await start_mllp_server(
        make_handler(env.uow), "127.0.0.1", 0, limits,
        too_large=make_too_large(env.uow, limits.max_frame),
    )  # fmt: skip
    port = server.sockets[0].getsockname()[1]
    big = message("oru_r01_final.hl7") + b"\rNTE|1||" + b"x" * 4096
    try:
        ack = read_ack(await send_mllp("127.0.0.1", port, big, timeout=10))
        after = await send(port, message("oru_r01_final.hl7"))  # the listener serves on
    finally:
        server.close()
        await server.wait_closed()
    assert (ack.code, ack.error) == ("AR", "207")
    assert ack.text == "message over 2 KiB; raise RADYAR_MLLP_MAX_FRAME_KB"
    sent = hl7.parse(message("oru_r01_final.hl7").decode()).segment("MSH")
    assert ack.control_id == str(sent[10])  # the ACK answers the sender's own message
    assert await rejected(env) == ["message over 2 KiB; raise RADYAR_MLLP_MAX_FRAME_KB"]
    assert after.code in ("AA", "AE")
