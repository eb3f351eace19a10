"""HL7 v2.5.1 SIU messages for outbound booking events (built with hl7apy), and their ACKs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import jdatetime
from hl7apy.base_datatypes import IS, NM, SI, ST
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from clinic.jalali import to_tehran
from clinic.outbound_views import OutboundKind
from notifier.hl7_reader import Hl7Error, Segment, parse_message
from notifier.outbound.answers import hl7_errors

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking

APPLICATION = "RADYAR"
RECEIVER = "RIS"
VERSION = "2.5.1"
# HL7 table 0354: S12 to S24 and S26 all share the SIU_S12 structure. hl7apy also defines
# SIU_S14 and friends (the same segments), but table 0354 and receivers know only SIU_S12.
STRUCTURE = "SIU_S12"
TRIGGERS = {
    OutboundKind.BOOKED: "S12",
    OutboundKind.MOVED: "S14",
    OutboundKind.ADMITTED: "S14",
    OutboundKind.CANCELLED: "S15",
    OutboundKind.NO_SHOW: "S26",
}
# HL7 table 0278. "Arrived" is a local value: v2.5.1 has no checked-in status ("Started"
# would say the exam has begun). hl7apy checks tables on simple fields only, so it passes.
FILLER_STATUS = {
    OutboundKind.BOOKED: "Booked",
    OutboundKind.MOVED: "Booked",
    OutboundKind.ADMITTED: "Arrived",
    OutboundKind.CANCELLED: "Cancelled",
    OutboundKind.NO_SHOW: "Noshow",
}
_SEX = {"female": "F", "male": "M"}  # HL7 table 0001; anything else is U (unknown)
_LINE_BREAK = re.compile(r"[\r\n]+")
_ACK_CODES = {"AA": "AA", "AE": "AE", "AR": "AR", "CA": "AA", "CE": "AE", "CR": "AR"}
# HL7 table 0357: 206 (record locked) and 207 (application internal error) are the receiver's
# own trouble; 1xx (segment, field, type, table errors) and 200-205 say the message is wrong,
# and it stays wrong when resent.
_TRANSIENT_ERRORS = {"", "206", "207"}


def _text(value: str, datatype: Any = ST) -> Any:
    """``value`` as an hl7apy ST (or IS): hl7apy escapes the separators on encoding, but a
    line break would end the segment, so it becomes a space."""
    return datatype(_LINE_BREAK.sub(" ", value))


def _ts(moment: datetime) -> str:
    """A TS in Tehran time with its offset, as the RIS and our inbound side read them."""
    return to_tehran(moment).strftime("%Y%m%d%H%M%S%z")


def build_siu(
    event: OutboundBooking, *, sending_facility: str = APPLICATION, now: datetime
) -> bytes:
    r"""The SIU message for ``event``: UTF-8 ER7, segments ended by ``\r``.

    Raises ValueError when ``now`` or ``event.starts_at`` is naive, KeyError for a kind this
    module does not know.
    """
    message = Message(STRUCTURE, version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    header_segment(message.msh, event, sending_facility, now,
        message_type=f"SIU^{TRIGGERS[event.kind]}^{STRUCTURE}", control_prefix="RDY")  # fmt: skip
    _sch(message.sch, event)
    patient_segment(message.add_group(f"{STRUCTURE}_PATIENT").pid, event)
    _resources(message.add_group(f"{STRUCTURE}_RESOURCES"), event)
    er7: str = message.to_er7()  # hl7apy's default separators, "\r" between segments
    return er7.encode("utf-8")


def header_segment(
    segment: Any,
    event: OutboundBooking,
    sending_facility: str,
    now: datetime,
    *,
    message_type: str,
    control_prefix: str,
) -> None:
    """MSH of an outbound message (SIU here, ORM in notifier.outbound.orm)."""
    segment.msh_3.hd_1 = _text(APPLICATION, IS)
    segment.msh_4.hd_1 = _text(sending_facility, IS)
    segment.msh_5.hd_1 = _text(RECEIVER, IS)
    if event.site_facility:
        segment.msh_6.hd_1 = _text(event.site_facility, IS)
    segment.msh_7 = _ts(now)
    segment.msh_9 = message_type
    # One event, one control id: a resent event carries the same MSH-10, so the RIS can tell
    # a retry from a new change.
    segment.msh_10 = f"{control_prefix}{event.event_id:012d}"
    segment.msh_11 = "P"
    segment.msh_18 = "UNICODE UTF-8"


def _sch(sch: Any, event: OutboundBooking) -> None:
    sch.sch_1.ei_1 = _text(event.booking_code)
    sch.sch_1.ei_2 = _text(APPLICATION, IS)
    if event.accession_number:
        sch.sch_2.ei_1 = _text(event.accession_number)
    sch.sch_6.ce_1 = _text(event.kind.value)
    sch.sch_7.ce_1 = _text(event.exam_code)
    sch.sch_7.ce_2 = _text(event.exam_name)
    sch.sch_9 = NM(event.duration_minutes)
    sch.sch_10.ce_1 = _text("MIN")
    sch.sch_11.tq_4.ts_1 = _ts(event.starts_at)
    sch.sch_11.tq_5.ts_1 = _ts(event.starts_at + timedelta(minutes=event.duration_minutes))
    # v2.5.1 requires a filler contact (SCH-16) and who entered the booking (SCH-20). We know
    # no RIS contact, and a patient who booked through the bot has no staff member: the
    # application stands in for both.
    sch.sch_16.xcn_1 = _text(APPLICATION)
    if event.staff_name:
        sch.sch_20.xcn_2.fn_1 = _text(event.staff_name)
    else:
        sch.sch_20.xcn_1 = _text(APPLICATION)
    sch.sch_25.ce_1 = _text(FILLER_STATUS[event.kind])


def patient_segment(pid: Any, event: OutboundBooking) -> None:
    """PID of an outbound message: the national code (NNIRN), the Persian name, birth year,
    sex and mobile."""
    pid.pid_3.cx_1 = _text(event.national_code)
    pid.pid_3.cx_4.hd_1 = _text("IRN", IS)
    pid.pid_3.cx_5 = "NNIRN"  # national person identifier, Iran: what notifier.hl7 reads
    pid.pid_5.xpn_1.fn_1 = _text(event.last_name)
    pid.pid_5.xpn_2 = _text(event.first_name)
    pid.pid_7.ts_1 = str(_gregorian_year(event.birth_year))
    pid.pid_8 = _SEX.get(event.sex, "U")
    pid.pid_13.xtn_1 = _text(event.mobile)
    pid.pid_13.xtn_2 = "PRN"  # primary residence number (table 0201)
    pid.pid_13.xtn_3 = "CP"  # cellular phone (table 0202)


def _gregorian_year(jalali_year: int) -> int:
    """The Gregorian year of 1 Farvardin: we keep the Jalali birth year only, and a year-only
    TS cannot say more (a birth in Dey to Esfand falls in the next Gregorian year)."""
    gregorian: Any = jdatetime.date(jalali_year, 1, 1).togregorian()
    return int(gregorian.year)


def _resources(resources: Any, event: OutboundBooking) -> None:
    resources.rgs.rgs_1 = SI(1)
    ais = resources.add_group(f"{STRUCTURE}_SERVICE").ais
    ais.ais_1 = SI(1)
    ais.ais_3.ce_1 = _text(event.exam_code)
    ais.ais_3.ce_2 = _text(event.exam_name)
    ais.ais_3.ce_3 = "L"  # a local code (table 0396): the department's own exam catalogue
    ais.ais_4.ts_1 = _ts(event.starts_at)
    ais.ais_7 = NM(event.duration_minutes)
    ais.ais_8.ce_1 = _text("MIN")
    ail = resources.add_group(f"{STRUCTURE}_LOCATION_RESOURCE").ail
    ail.ail_1 = SI(1)
    ail.ail_3.pl_1 = _text(event.room, IS)
    ail.ail_3.pl_4.hd_1 = _text(event.device_code, IS)
    ail.ail_3.pl_9 = _text(event.device_name)
    if event.staff_name:
        aig = resources.add_group(f"{STRUCTURE}_GENERAL_RESOURCE").aig
        aig.aig_1 = SI(1)
        aig.aig_3.ce_2 = _text(event.staff_name)
        aig.aig_4.ce_1 = _text("STAFF")  # AIG-4 (resource type) is required


@dataclass(frozen=True)
class Ack:
    """What the receiver answered: MSA-1 as an original-mode code, the control id it
    acknowledges, its HL7 table 0357 error code ("" when none), its text (which may quote
    the message), and each ERR's code and place as staff read them."""

    code: str  # AA, AE or AR (enhanced-mode CA, CE, CR read as these)
    control_id: str  # MSA-2: our MSH-10
    error: str  # ERR-3.1 (v2.5), else ERR-1.4 (v2.3/2.4)
    text: str  # MSA-3, else ERR-8, else ERR-3.2
    errors: tuple[str, ...] = ()  # "101 (required field missing) at PID-3" (answers.py)


class BadAck(ValueError):
    """An answer that is not an HL7 acknowledgement we can read (garbage, truncated, no MSA)."""


def parse_ack(raw: bytes) -> Ack:
    r"""The acknowledgement in ``raw`` (``\r``, ``\n`` or ``\r\n`` between segments).

    Raises BadAck when it is not HL7, has no MSA, or its MSA-1 or MSA-2 is missing or unknown.
    """
    try:
        message = parse_message(raw)
    except Hl7Error as exc:
        raise BadAck(f"not an HL7 message: {exc.text}") from None
    msa = _first(message.segments, "MSA")
    if msa is None:
        raise BadAck("no MSA segment")
    code = _ACK_CODES.get(msa.get(1).upper())
    if code is None or not msa.get(2):
        raise BadAck("MSA-1 or MSA-2 missing or unknown")
    error, text = _error(_first(message.segments, "ERR"))
    return Ack(code, msa.get(2), error, msa.get(3) or text, hl7_errors(message.segments))


def _first(segments: list[Segment], name: str) -> Segment | None:
    return next((segment for segment in segments if segment.name == name), None)


def _error(err: Segment | None) -> tuple[str, str]:
    """The first ERR's code and text; v2.3 and v2.4 senders put the code in ERR-1.4."""
    if err is None:
        return "", ""
    return err.get(3) or err.get(1, 4), err.get(8) or err.get(3, 2)


def transient(ack: Ack) -> bool:
    """Whether resending the message may get a different answer: AE for the receiver's own
    trouble (error 206, 207 or none). AA needs no resend; AR and AE for a data error stand."""
    return ack.code == "AE" and ack.error in _TRANSIENT_ERRORS
