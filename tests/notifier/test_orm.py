"""HL7 ORM^O01 order messages built with hl7apy: read back with hl7, validated by hl7apy."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_message as hl7apy_parse
from hl7apy.validation import Validator

from clinic.outbound_views import OutboundKind
from notifier.hl7_reader import parse_message
from notifier.outbound.orm import build_orm
from tests.notifier.test_siu import EVENT, NNIRN_WARNING, NOW, field, read

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from clinic.outbound_views import OutboundBooking

KINDS = [
    (OutboundKind.BOOKED, "NW", "SC"),
    (OutboundKind.MOVED, "XO", "SC"),
    (OutboundKind.ADMITTED, "SC", "IP"),
    (OutboundKind.CANCELLED, "CA", "CA"),
    (OutboundKind.NO_SHOW, "DC", "DC"),
]
TIMING = "^^^20261201100000+0330^20261201102000+0330"  # 10:00 to 10:20 in Tehran
CHOICE = "ORM_O01_OBRRQDRQ1RXOODSODT_SUPPGRP"


def obr_chosen(reference: Any) -> Any:
    """``reference`` with ORM_O01's choice of order segment narrowed to the OBR we send.
    hl7apy 1.3.5 checks a choice group as a sequence, every alternative required
    (crs4/hl7apy#151), so no ORM_O01 with an OBR passes its ``validate()`` as it is."""
    kind, children, *rest = reference
    if kind == "choice":
        return ("sequence", tuple(child for child in children if child[0] == "OBR"), *rest)
    narrowed = tuple(
        (child[0], obr_chosen(child[1]), *child[2:]) if child[3] == "GRP" else child
        for child in children
    )
    return (kind, narrowed, *rest)


def validation_warnings(raw: bytes, tmp_path: Path) -> list[str]:
    """hl7apy's STRICT parse and validation of the bytes as sent: raises ValidationError,
    else returns its warnings (table values, lengths), which it writes to a report file."""
    message = hl7apy_parse(raw.decode("utf-8"), validation_level=VALIDATION_LEVEL.STRICT)
    report = tmp_path / "validation.txt"
    reference = obr_chosen(message.reference)
    assert Validator.validate(message, reference=reference, report_file=str(report)) is True
    return report.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(("kind", "control", "status"), KINDS)
def test_each_kind_gives_its_order_control_and_status(
    kind: OutboundKind, control: str, status: str, tmp_path: Path
) -> None:
    raw = build_orm(replace(EVENT, kind=kind), now=NOW)
    message = read(raw)
    assert field(message, "MSH", 9) == "ORM^O01^ORM_O01"
    assert field(message, "MSH", 18) == "UNICODE UTF-8"
    assert [field(message, "ORC", n) for n in (1, 5)] == [control, status]
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_hl7apy_alone_still_wants_every_alternative_of_the_choice() -> None:
    # When this fails, hl7apy checks choice groups itself and obr_chosen can go.
    raw = build_orm(EVENT, now=NOW).decode("utf-8")
    message = hl7apy_parse(raw, validation_level=VALIDATION_LEVEL.STRICT)
    with pytest.raises(ValidationError, match=f"Missing required child {CHOICE}.RQD"):
        message.validate()


def test_segments_come_in_the_orm_order_with_carriage_returns() -> None:
    raw = build_orm(replace(EVENT, staff_name="رضا احمدی"), now=NOW)
    assert b"\n" not in raw
    names = [line[:3] for line in raw.decode("utf-8").split("\r")]
    assert names == ["MSH", "PID", "PV1", "ORC", "OBR"]


def test_header_names_us_the_ris_and_tehran_time() -> None:
    message = read(build_orm(EVENT, sending_facility="RADIOLOGY", now=NOW))
    assert [field(message, "MSH", n) for n in (3, 4, 5, 6, 7)] == [
        "RADYAR",
        "RADIOLOGY",
        "RIS",
        "IMAM-HOSPITAL",
        "20261130083007+0330",
    ]
    # RDO, not SIU's RDY: the same event as an order and as a schedule are two messages.
    assert [field(message, "MSH", n) for n in (10, 11, 12)] == ["RDO000000000042", "P", "2.5.1"]


def test_patient_and_visit() -> None:
    message = read(build_orm(EVENT, now=NOW))
    assert field(message, "PID", 3) == "0012345679^^^IRN^NNIRN"
    assert field(message, "PID", 5) == "محمدی^زهرا"
    assert [field(message, "PID", n) for n in (7, 8)] == ["1985", "F"]
    assert field(message, "PID", 13) == "09121234567^PRN^CP"
    assert [field(message, "PV1", n) for n in (1, 2)] == ["1", "O"]
    assert field(message, "PV1", 3) == "12^^^CT1^^^^^سی‌تی شماره ۱"


def test_placer_is_the_booking_code_and_filler_the_accession_number() -> None:
    message = read(build_orm(EVENT, now=NOW))
    for segment in ("ORC", "OBR"):
        assert field(message, segment, 2) == "BK-7Q2X^RADYAR"
        assert field(message, segment, 3) == "RAD-1001"


def test_unknown_accession_and_facility_leave_their_fields_empty(tmp_path: Path) -> None:
    raw = build_orm(replace(EVENT, accession_number=None, site_facility=""), now=NOW)
    message = read(raw)
    assert field(message, "MSH", 6) == ""
    assert field(message, "ORC", 3) == ""
    assert field(message, "OBR", 3) == ""
    assert field(message, "OBR", 2) == "BK-7Q2X^RADYAR"
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_exam_timing_and_time_of_the_change() -> None:
    message = read(build_orm(EVENT, now=NOW))
    assert field(message, "OBR", 1) == "1"
    assert field(message, "OBR", 4) == "CT-BRAIN^سی‌تی اسکن مغز^L"
    assert field(message, "ORC", 7) == TIMING
    assert field(message, "OBR", 27) == TIMING
    assert field(message, "ORC", 9) == "20261130082900+0330"


@pytest.mark.parametrize(
    ("modality", "section"),
    [
        ("CT", "CT"),
        ("MR", "NMR"),
        ("CR", "RX"),
        ("US", "RUS"),
        ("MG", "RX"),
        ("RF", "RAD"),
        ("BMD", "RAD"),
        ("PT", "RAD"),  # a modality the table above does not know yet
    ],
)
def test_modality_is_a_table_0074_service_section(
    modality: str, section: str, tmp_path: Path
) -> None:
    raw = build_orm(replace(EVENT, modality=modality), now=NOW)
    assert field(read(raw), "OBR", 24) == section
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]  # no table 0074 warning


def test_staff_member_entered_the_change_and_is_no_ordering_provider(tmp_path: Path) -> None:
    raw = build_orm(replace(EVENT, staff_name="رضا احمدی"), now=NOW)
    message = read(raw)
    assert field(message, "ORC", 10) == "^رضا احمدی"
    assert field(message, "ORC", 12) == ""
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


def test_without_staff_nobody_is_named() -> None:
    message = read(build_orm(EVENT, now=NOW))
    assert field(message, "ORC", 10) == ""
    assert field(message, "ORC", 12) == ""


def test_separators_and_line_breaks_in_values_come_back(tmp_path: Path) -> None:
    name = "محمدی | ^ ~ \\ & نژاد"
    event = replace(EVENT, last_name=name + "\r\nPID|evil", booking_code="A^B|C")
    raw = build_orm(event, now=NOW)
    escaped = "محمدی \\F\\ \\S\\ \\R\\ \\E\\ \\T\\ نژاد PID\\F\\evil"  # as sent, one line
    assert field(read(raw), "PID", 5) == escaped + "^زهرا"
    ours = parse_message(raw)  # our inbound reader undoes the escapes
    assert [s.name for s in ours.segments].count("PID") == 1
    pid = next(s for s in ours.segments if s.name == "PID")
    assert pid.components(5) == [name + " PID|evil", "زهرا"]
    for orc_or_obr in (s for s in ours.segments if s.name in {"ORC", "OBR"}):
        assert orc_or_obr.components(2) == ["A^B|C", "RADYAR"]
    assert validation_warnings(raw, tmp_path) == [NNIRN_WARNING]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda lines: [x for x in lines if not x.startswith("ORC")], id="no ORC"),
        pytest.param(
            lambda lines: [x if not x.startswith("PID") else "PID|||1" for x in lines],
            id="PID without a name",
        ),
        pytest.param(
            lambda lines: [x if not x.startswith("OBR") else "OBR|1|A" for x in lines],
            id="OBR without the exam",
        ),
    ],
)
def test_validation_catches_a_broken_message(
    mangle: Callable[[list[str]], list[str]], tmp_path: Path
) -> None:
    lines = build_orm(EVENT, now=NOW).decode("utf-8").split("\r")
    broken = "\r".join(mangle(lines)).encode("utf-8")
    with pytest.raises(ValidationError, match="Missing required child"):
        validation_warnings(broken, tmp_path)


@pytest.mark.parametrize(
    ("event", "now"),
    [
        pytest.param(EVENT, datetime(2026, 11, 30, 8, 30), id="now"),
        pytest.param(replace(EVENT, starts_at=datetime(2026, 12, 1, 10, 0)), NOW, id="starts_at"),
    ],
)
def test_naive_times_are_refused(event: OutboundBooking, now: datetime) -> None:
    with pytest.raises(ValueError, match="naive"):
        build_orm(event, now=now)
