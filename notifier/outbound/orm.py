"""HL7 v2.5.1 ORM^O01 order messages for outbound booking events, for a RIS that takes orders."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hl7apy.base_datatypes import IS, SI
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from clinic.outbound_views import OutboundKind
from notifier.outbound.siu import (
    APPLICATION,
    VERSION,
    _text,
    _ts,
    header_segment,
    patient_segment,
)

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking

STRUCTURE = "ORM_O01"
# HL7 table 0119 (order control) and table 0038 (order status) by booking change. We are the
# placer: a booking is a new order (NW, scheduled); a move asks the filler to change it (XO);
# an admission changes only its status (SC) to in process (IP), the patient being at the
# department; a cancellation before the exam cancels it (CA); a no-show discontinues an order
# whose time has passed (DC), which the RIS keeps apart from a cancellation.
ORDER_CONTROL = {
    OutboundKind.BOOKED: ("NW", "SC"),
    OutboundKind.MOVED: ("XO", "SC"),
    OutboundKind.ADMITTED: ("SC", "IP"),
    OutboundKind.CANCELLED: ("CA", "CA"),
    OutboundKind.NO_SHOW: ("DC", "DC"),
}
# HL7 table 0074 (diagnostic service section) has no MR, US, MG, RF or BMD: MRI is NMR
# (nuclear magnetic resonance), ultrasound done by radiology is RUS, a plain film or a
# mammogram is RX (radiograph); fluoroscopy and bone densitometry have no section of their own
# and are RAD (radiology), as is a modality added to the catalogue later.
SERVICE_SECTION = {
    "CT": "CT",
    "MR": "NMR",
    "CR": "RX",
    "US": "RUS",
    "MG": "RX",
    "RF": "RAD",
    "BMD": "RAD",
}
_RADIOLOGY = "RAD"


def build_orm(
    event: OutboundBooking, *, sending_facility: str = APPLICATION, now: datetime
) -> bytes:
    r"""The ORM message for ``event``: UTF-8 ER7, segments ended by ``\r``.

    Raises ValueError when ``now``, ``event.starts_at`` or ``event.occurred_at`` is naive,
    KeyError for a kind this module does not know.
    """
    message = Message(STRUCTURE, version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    # RDO, not SIU's RDY: a RIS fed both formats must not take an order for a resent schedule.
    header_segment(message.msh, event, sending_facility, now,
        message_type=f"ORM^O01^{STRUCTURE}", control_prefix="RDO")  # fmt: skip
    patient = message.add_group(f"{STRUCTURE}_PATIENT")
    patient_segment(patient.pid, event)
    _pv1(patient.add_group(f"{STRUCTURE}_PATIENT_VISIT").pv1, event)
    order = message.add_group(f"{STRUCTURE}_ORDER")
    _orc(order.orc, event)
    detail = order.add_group(f"{STRUCTURE}_ORDER_DETAIL")
    _obr(detail.add_group(f"{STRUCTURE}_OBRRQDRQ1RXOODSODT_SUPPGRP").obr, event)
    er7: str = message.to_er7()  # hl7apy's default separators, "\r" between segments
    return er7.encode("utf-8")


def _pv1(pv1: Any, event: OutboundBooking) -> None:
    pv1.pv1_1 = SI(1)
    pv1.pv1_2 = "O"  # outpatient (table 0004): the bot books referred outpatients only
    # The device's place as SIU's AIL-3 gives it, so a RIS fed both reads one location.
    pv1.pv1_3.pl_1 = _text(event.room, IS)
    pv1.pv1_3.pl_4.hd_1 = _text(event.device_code, IS)
    pv1.pv1_3.pl_9 = _text(event.device_name)


def _orc(orc: Any, event: OutboundBooking) -> None:
    control, status = ORDER_CONTROL[event.kind]
    orc.orc_1 = control
    _order_numbers(orc.orc_2, orc.orc_3, event)
    orc.orc_5 = status
    _timing(orc.orc_7, event)
    orc.orc_9.ts_1 = _ts(event.occurred_at)
    # ORC-10 is who keyed the change in. A receptionist is not the ordering provider (ORC-12,
    # the referring physician, whom we do not know), so ORC-12 stays empty.
    if event.staff_name:
        orc.orc_10.xcn_2.fn_1 = _text(event.staff_name)


def _obr(obr: Any, event: OutboundBooking) -> None:
    obr.obr_1 = SI(1)
    _order_numbers(obr.obr_2, obr.obr_3, event)
    obr.obr_4.ce_1 = _text(event.exam_code)
    obr.obr_4.ce_2 = _text(event.exam_name)
    obr.obr_4.ce_3 = "L"  # a local code (table 0396): the department's own exam catalogue
    obr.obr_24 = SERVICE_SECTION.get(event.modality, _RADIOLOGY)
    _timing(obr.obr_27, event)


def _order_numbers(placer: Any, filler: Any, event: OutboundBooking) -> None:
    placer.ei_1 = _text(event.booking_code)
    placer.ei_2 = _text(APPLICATION, IS)
    if event.accession_number:
        filler.ei_1 = _text(event.accession_number)


def _timing(tq: Any, event: OutboundBooking) -> None:
    """TQ start and end: v2.5.1's ORM_O01 has no TQ1 segment, so ORC-7 and OBR-27 (kept for
    backward compatibility) carry the time, as SIU's SCH-11 does."""
    tq.tq_4.ts_1 = _ts(event.starts_at)
    tq.tq_5.ts_1 = _ts(event.starts_at + timedelta(minutes=event.duration_minutes))
