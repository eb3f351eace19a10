"""HL7 SIU booking messages built with hl7apy: read back with hl7, validated by hl7apy; ACKs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_message as hl7apy_parse

from clinic.outbound_views import OutboundBooking, OutboundKind
from notifier.hl7_reader import parse_message
from notifier.outbound.siu import Ack, BadAck, build_siu, parse_ack, transient

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NOW = datetime(2026, 11, 30, 5, 0, 7, tzinfo=UTC)  # 08:30:07 in Tehran
EVENT = OutboundBooking(
    event_id=42,
    kind=OutboundKind.BOOKED,
    occurred_at=datetime(2026, 11, 30, 4, 59, tzinfo=UTC),
    booking_code="BK-7Q2X",
    accession_number="RAD-1001",
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
    room="12",
    site_facility="IMAM-HOSPITAL",
)
KINDS = [
    (OutboundKind.BOOKED, "S12", "Booked"),
    (OutboundKind.MOVED, "S14", "Booked"),
    (OutboundKind.ADMITTED, "S14", "Arrived"),
    (OutboundKind.CANCELLED, "S15", "Cancelled"),
    (OutboundKind.NO_SHOW, "S26", "Noshow"),
]
# hl7apy's table 0203 lists the national identifier pattern "NNxxx" literally, not NNIRN
# (NN plus the ISO 3166 country code, as the table intends): the one warning we expect.
NNIRN_WARNING = "Warning: Value NNIRN not in table HL70203 in element PID_3.CX_5"


def read(raw: bytes) -> hl7.Message:
    """The message as another HL7 library reads it."""
    return hl7.parse(raw.decode("utf-8"))


def field(message: hl7.Message, segment: str, n: int) -> str:
    """SEG-n as sent (escaped), "" when the segment is too short."""
    seg = message.segment(segment)
    return str(seg(n)) if n < len(seg) else ""


def validation_warnings(raw: bytes, tmp_path: Path) -> list[str]:
    """hl7apy's STRICT validation of the bytes as sent: raises ValidationError, else returns
    its warnings (table values, lengths), which hl7apy only writes to a report file."""
    message = hl7apy_parse(raw.decode("utf-8"), validation_level=VALIDATION_LEVEL.STRICT)
    report = tmp_path / "validation.txt"
    assert message.validate(report_file=str(report)) is True
    return report.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(("kind", "trigger", "status"), KINDS)
def test_each_kind_builds_its_trigger_and_filler_status(
    kind: OutboundKind, trigger: str, status: str, tmp_path: Path
) -> None:
    raw = build_siu(replace(EVENT, kind=kind), now=NOW)
    message = read(raw)
    assert field(message, "MSH", 9) == f"SIU^{trigger}^SIU_S12"
    assert field(message, "MSH", 18) == "UNICODE UTF-8"
    assert field(message, "SCH", 1) == "BK-7Q2X^RADYAR"
    assert field(message, "SCH", 2) == "RAD-1001"
    assert field(message, "SCH", 6) == kind.value
    assert field(message, "SCH", 25) == status
    assert field(message, "PID", 3) == "0012345679^^^IRN^NNIRN"
    assert field(message, "PID", 5) == "محمدی^زهرا"
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_segments_come_in_the_siu_order_with_carriage_returns() -> None:
    raw = build_siu(replace(EVENT, staff_name="رضا احمدی"), now=NOW)
    assert b"\n" not in raw
    names = [line[:3] for line in raw.decode("utf-8").split("\r")]
    assert names == ["MSH", "SCH", "PID", "RGS", "AIS", "AIG", "AIL"]


def test_header_names_us_the_ris_and_tehran_time() -> None:
    message = read(build_siu(EVENT, sending_facility="RADIOLOGY", now=NOW))
    assert [field(message, "MSH", n) for n in (3, 4, 5, 6, 7)] == [
        "RADYAR",
        "RADIOLOGY",
        "RIS",
        "IMAM-HOSPITAL",
        "20261130083007+0330",
    ]
    assert [field(message, "MSH", n) for n in (10, 11, 12)] == ["RDY000000000042", "P", "2.5.1"]


def test_unknown_accession_and_facility_leave_their_fields_empty(tmp_path: Path) -> None:
    raw = build_siu(replace(EVENT, accession_number=None, site_facility=""), now=NOW)
    message = read(raw)
    assert field(message, "MSH", 4) == "RADYAR"
    assert field(message, "MSH", 6) == ""
    assert field(message, "SCH", 2) == ""
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_timing_duration_exam_and_location() -> None:
    message = read(build_siu(EVENT, now=NOW))
    assert field(message, "SCH", 7) == "CT-BRAIN^سی‌تی اسکن مغز"
    assert [field(message, "SCH", n) for n in (9, 10)] == ["20", "MIN"]
    assert field(message, "SCH", 11) == "^^^20261201100000+0330^20261201102000+0330"
    assert field(message, "RGS", 1) == "1"
    assert field(message, "AIS", 1) == "1"
    assert field(message, "AIS", 3) == "CT-BRAIN^سی‌تی اسکن مغز^L"
    assert field(message, "AIS", 4) == "20261201100000+0330"
    assert [field(message, "AIS", n) for n in (7, 8)] == ["20", "MIN"]
    assert field(message, "AIL", 3) == "12^^^CT1^^^^^سی‌تی شماره ۱"


def test_staff_member_is_an_aig_and_the_entering_person(tmp_path: Path) -> None:
    raw = build_siu(replace(EVENT, staff_name="رضا احمدی"), now=NOW)
    message = read(raw)
    assert field(message, "AIG", 3) == "^رضا احمدی"
    assert field(message, "SCH", 20) == "^رضا احمدی"
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_without_staff_there_is_no_aig_and_radyar_entered_it() -> None:
    message = read(build_siu(EVENT, now=NOW))
    assert not [segment for segment in message if str(segment[0]) == "AIG"]
    assert field(message, "SCH", 20) == "RADYAR"
    assert field(message, "SCH", 16) == "RADYAR"


@pytest.mark.parametrize(
    ("jalali", "gregorian"), [(1364, "1985"), (1403, "2024"), (1404, "2025"), (1300, "1921")]
)
def test_birth_year_is_the_gregorian_year_of_1_farvardin(jalali: int, gregorian: str) -> None:
    message = read(build_siu(replace(EVENT, birth_year=jalali), now=NOW))
    assert field(message, "PID", 7) == gregorian


@pytest.mark.parametrize(("sex", "code"), [("female", "F"), ("male", "M"), ("", "U")])
def test_sex_and_mobile(sex: str, code: str) -> None:
    message = read(build_siu(replace(EVENT, sex=sex), now=NOW))
    assert field(message, "PID", 8) == code
    assert field(message, "PID", 13) == "09121234567^PRN^CP"


def test_separators_in_values_are_escaped_and_read_back(tmp_path: Path) -> None:
    name = "MRI | knee ^ left & right ~ \\ زانو"
    event = replace(EVENT, exam_name=name + "\r\nPID|evil", booking_code="A^B|C")
    raw = build_siu(event, now=NOW)
    ours = parse_message(raw)  # our inbound reader undoes the escapes
    assert [s.name for s in ours.segments].count("PID") == 1
    ais = next(s for s in ours.segments if s.name == "AIS")
    assert ais.get(3, 2) == name + " PID|evil"
    sch = next(s for s in ours.segments if s.name == "SCH")
    assert sch.components(1) == ["A^B|C", "RADYAR"]
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda lines: [x for x in lines if not x.startswith("SCH")], id="no SCH"),
        pytest.param(
            lambda lines: [x if not x.startswith("PID") else "PID|||1" for x in lines],
            id="PID without a name",
        ),
    ],
)
def test_validation_catches_a_broken_message(
    mangle: Callable[[list[str]], list[str]], tmp_path: Path
) -> None:
    lines = build_siu(EVENT, now=NOW).decode("utf-8").split("\r")
    broken = "\r".join(mangle(lines)).encode("utf-8")
    with pytest.raises(ValidationError, match="Missing required child"):
        validation_warnings(broken, tmp_path)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        build_siu(EVENT, now=datetime(2026, 11, 30, 8, 30))


MSH = "MSH|^~\\&|RIS|IMAM|RADYAR|RADYAR|20261130083008+0330||ACK^S12^ACK|A1|P|2.5.1"


def ack(*segments: str, separator: str = "\r") -> bytes:
    return separator.join([MSH, *segments]).encode("utf-8")


def test_aa_is_accepted_and_needs_no_resend() -> None:
    answer = parse_ack(ack("MSA|AA|RDY000000000042"))
    assert answer == Ack("AA", "RDY000000000042", "", "")
    assert not transient(answer)


def test_error_text_falls_back_to_err_3_2() -> None:
    err = "ERR||SCH^1^7|103^Table value not found^HL70357|E"
    assert parse_ack(ack("MSA|AE|RDY1", err)).text == "Table value not found"


def test_ae_with_an_internal_error_is_transient() -> None:
    err = "ERR||SCH^1|207^Application internal error^HL70357|E||||database busy"
    answer = parse_ack(ack("MSA|AE|RDY1", err))
    assert answer == Ack(
        "AE", "RDY1", "207", "database busy", ("207 (application internal error) at SCH",)
    )
    assert transient(answer)


def test_ae_without_an_error_code_is_transient() -> None:
    answer = parse_ack(ack("MSA|AE|RDY1|try again later"))
    assert answer == Ack("AE", "RDY1", "", "try again later")
    assert transient(answer)


@pytest.mark.parametrize(
    ("msa", "err", "code"),
    [
        ("MSA|AE|RDY1", "ERR||PID^1^5|101^Required field missing^HL70357|E", "101"),
        ("MSA|AE|RDY1", "ERR||SCH^1^7|103^Table value not found^HL70357|E", "103"),
        ("MSA|AR|RDY1", "ERR|||200^Unsupported message type^HL70357|E", "200"),
        ("MSA|AR|RDY1", "ERR|||207^Application internal error^HL70357|E", "207"),
        ("MSA|AE|RDY1", "ERR|PID^1^5^101&Required field missing&HL70357", "101"),  # v2.3/2.4
    ],
)
def test_ar_and_data_errors_are_permanent(msa: str, err: str, code: str) -> None:
    answer = parse_ack(ack(msa, err))
    assert answer.error == code
    assert not transient(answer)


def test_ar_without_an_error_is_permanent() -> None:
    assert not transient(parse_ack(ack("MSA|AR|RDY1")))


@pytest.mark.parametrize(("sent", "read_as"), [("CA", "AA"), ("CE", "AE"), ("CR", "AR")])
def test_enhanced_mode_codes_read_as_original_mode(sent: str, read_as: str) -> None:
    assert parse_ack(ack(f"MSA|{sent}|RDY1")).code == read_as


@pytest.mark.parametrize("separator", ["\n", "\r\n"])
def test_ack_with_other_line_endings_and_mllp_framing(separator: str) -> None:
    framed = b"\x0b" + ack("MSA|AA|RDY7", separator=separator) + b"\x1c\r"
    assert parse_ack(framed) == Ack("AA", "RDY7", "", "")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"garbage",
        b"HTTP/1.1 500 Internal Server Error\r\n\r\n",
        MSH.encode(),  # cut before MSA
        ack("MSA|"),
        ack("MSA|AA"),  # no control id
        ack("MSA|OK|RDY1"),
        ack("MSA|AA|RDY1").replace(b"RIS", b"\xff\xfe"),  # not UTF-8
    ],
)
def test_garbage_or_truncated_answers_raise_bad_ack(raw: bytes) -> None:
    with pytest.raises(BadAck):
        parse_ack(raw)
    assert issubclass(BadAck, ValueError)
