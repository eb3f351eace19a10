"""HL7 v2 from the RIS/HIS: reports (ORU^R01) and orders (ORM^O01, OMI^O23) to clinic calls.

One message (bytes in the character set its MSH-18 declares, UTF-8 when it declares none)
becomes one unit of work and one original-mode ACK. The ACK is always UTF-8 and says so in its
own MSH-18 (``UNICODE UTF-8``), whatever the sender used.

Reading is ``notifier.hl7_reader``: the ``hl7`` package (python-hl7) splits the message into
segments, fields, repetitions and components by its MSH-1/MSH-2 separators; we decode by MSH-18
(UTF-8, ASCII, ISO 8859, Windows-1256), normalise line endings, drop noise lines and undo escapes
ourselves (hl7's unescape logs field values). Here: the site, message groups and the use-case
calls; the ACK, which we write ourselves, is ``notifier.hl7_ack``.

Field choices (HL7 v2.3.1–2.5.1, IHE radiology practice):

- Site: MSH-4 (sending facility), its first component, matched without case to a site's HIS
  facility name; with one site, any. Accession numbers and bookings are looked up at that site.
- Accession number, ORU: OBR-18 (Placer Field 1, where IHE and dcm4chee put it), else OBR-3
  (filler order number), else OBR-2. Orders: IPC-1 (OMI), else OBR-18, else OBR-3, else ORC-3.
- ORU result status OBR-25: ``F`` → final, ``C`` → corrected; ``P``, ``X``, ``I``, empty and
  anything else notify nobody and are acknowledged AA.
- Report time: OBR-22 (status change), else MSH-7, else now. Timestamps are
  ``YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ]``; without an offset they are Tehran time.
- Patient, for matching when the accession number is unknown: the national code is the PID-3
  repetition whose identifier type (CX-5) is NI, NN or NNIRN, else the first repetition's id.
  Modality: IPC-5 (OMI), else OBR-24, else OBR-4's code if it is a modality code. Day: ORU OBR-7;
  orders TQ1-7, else OBR-36, else ORC-7.4, else OBR-6, else OBR-7, in Tehran.
- Orders whose ORC-1 is CA, DC, OC, CR, OD or DR (cancelled or discontinued) link nothing: AA.

Answers. AA once the change is committed (a repeated report is a harmless AA). AE when the
message is fine but waits for staff (no booking with that accession number yet, or an order that
fits no booking or several), and when the database fails ("try again later"). AR for what we
cannot read or do not take (no MSH, an unsupported character set or bytes invalid in the declared
one, unsupported type, no or malformed accession number, and, where several sites are served,
an MSH-4 that names none of them: AR 103, since a guessed hospital could tell another patient
that a report is ready); those are kept in ``rejected_messages`` for staff, decoded in their
declared character set where we can and masked (``clinic.message_mask``: the structure stays,
the patient and the report text go). Senders usually resend on AE/AR: resending is safe
(events are idempotent), but an interface engine that holds its queue on a negative ACK should
be set to move on, as AE/AR messages are already kept for staff.

Logs carry the control id, message type, outcome and accession count only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic.errors import InvalidInput
from clinic.hospital import (
    OrderOutcome,
    PatientHint,
    hospital_report_event,
    link_order,
    normalize_modality,
)
from clinic.hospital_inbox import keep_rejected
from clinic.jalali import TEHRAN
from clinic.reports import Outcome, ReportEvent
from clinic.sites import his_site
from notifier.hl7_ack import Answer, Header, build_ack
from notifier.hl7_reader import Hl7Error, Message, Segment, parse_message, parse_ts, readable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import date

    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

SOURCE = "hl7"
_LOGGABLE = re.compile(r"[A-Za-z0-9^._-]{1,40}", re.ASCII)
_STATUSES = {"F": ReportEvent.FINAL, "C": ReportEvent.CORRECTED}
_NATIONAL_ID_TYPES = {"NI", "NN", "NNIRN"}
_CANCELLED = {"CA", "DC", "OC", "CR", "OD", "DR"}
_ORDER_ACCESSION = (("IPC", 1), ("OBR", 18), ("OBR", 3), ("ORC", 3))


def _tehran_day(raw: str) -> date | None:
    moment = parse_ts(raw)
    return None if moment is None else moment.astimezone(TEHRAN).date()


def _first(*values: str) -> str:
    return next((v for v in values if v), "")


@dataclass
class _Group:
    """One order or observation: ORC and/or OBR with the segments that follow, and its PID."""

    pid: Segment | None
    orc: Segment | None = None
    obr: Segment | None = None
    more: dict[str, Segment] = field(default_factory=dict)  # the first TQ1, IPC...

    def seg(self, name: str) -> Segment | None:
        return {"ORC": self.orc, "OBR": self.obr}.get(name) or self.more.get(name)

    def value(self, name: str, n: int, component: int = 1) -> str:
        seg = self.seg(name)
        return "" if seg is None else seg.get(n, component)


def _groups(message: Message) -> list[_Group]:
    groups: list[_Group] = []
    pid: Segment | None = None
    current: _Group | None = None
    for seg in message.segments[1:]:
        if seg.name == "PID":
            pid, current = seg, None
        elif seg.name == "ORC":
            current = _Group(pid, orc=seg)
            groups.append(current)
        elif seg.name == "OBR":
            if current is None or current.obr is not None:
                current = _Group(pid)
                groups.append(current)
            current.obr = seg
        elif current is not None:
            current.more.setdefault(seg.name, seg)
    return groups


def _national_code(pid: Segment | None) -> str | None:
    if pid is None:
        return None
    for rep in range(1, pid.repetitions(3) + 1):
        if pid.get(3, 5, rep).upper() in _NATIONAL_ID_TYPES:
            return pid.get(3, 1, rep) or None
    return pid.get(3) or None


def _modality(*candidates: str) -> str | None:
    return next((c for c in candidates if normalize_modality(c) is not None), None)


async def _report(uow: UnitOfWork, head: Header, message: Message, site: int) -> Answer:
    groups = [g for g in _groups(message) if g.obr is not None]
    if not groups:
        raise Hl7Error(100, "no OBR segment", "OBR")
    done = unmatched = 0
    for index, group in enumerate(groups, 1):
        kind = _STATUSES.get(group.value("OBR", 25).upper())
        if kind is None:
            continue  # preliminary, cancelled, in progress...: nobody is told
        accession = _first(*(group.value("OBR", n) for n in (18, 3, 2)))
        if not accession:
            raise Hl7Error(101, f"no accession number in OBR {index}", f"OBR^{index}^18")
        hint = PatientHint.of(
            _national_code(group.pid),
            _modality(group.value("OBR", 24), group.value("OBR", 4)),
            _tehran_day(group.value("OBR", 7)),
        )
        outcome = await hospital_report_event(
            uow,
            source=SOURCE,
            accession_number=accession,
            kind=kind,
            occurred_at=parse_ts(group.value("OBR", 22)) or head.sent_at or uow.clock.now(),
            hint=hint,
            payload=_payload(head, index),
            site=site,
        )
        done += 1
        unmatched += outcome is Outcome.UNMATCHED
    if unmatched:
        text = "no booking with this accession number yet; kept for staff"
        return Answer("AE", text, 204, accessions=done)
    return Answer(
        "AA", "report accepted" if done else "no final report; nothing to do", None, "", done
    )


def _order_day(group: _Group) -> date | None:
    places = (("TQ1", 7, 1), ("OBR", 36, 1), ("ORC", 7, 4), ("OBR", 6, 1), ("OBR", 7, 1))
    days = (_tehran_day(group.value(*place)) for place in places)
    return next((day for day in days if day is not None), None)


async def _order(uow: UnitOfWork, head: Header, message: Message, site: int) -> Answer:
    groups = [g for g in _groups(message) if g.obr is not None or "IPC" in g.more]
    if not groups:
        raise Hl7Error(100, "no ORC/OBR order segments", "OBR")
    outcomes: list[OrderOutcome] = []
    for index, group in enumerate(groups, 1):
        if group.value("ORC", 1).upper() in _CANCELLED:
            continue  # a cancelled order links nothing; the booking is cancelled at reception
        accession = _first(*(group.value(*place) for place in _ORDER_ACCESSION))
        if not accession:
            raise Hl7Error(101, f"no accession number in order {index}", f"OBR^{index}^18")
        hint = PatientHint.of(
            _national_code(group.pid),
            _modality(group.value("IPC", 5), group.value("OBR", 24), group.value("OBR", 4)),
            _order_day(group),
        )
        outcomes.append(
            await link_order(
                uow,
                source=SOURCE,
                accession_number=accession,
                hint=hint,
                occurred_at=head.sent_at or uow.clock.now(),
                payload=_payload(head, index),
                site=site,
            )
        )
    count = len(outcomes)
    if OrderOutcome.AMBIGUOUS in outcomes:
        text = "several bookings fit this order; kept for staff, not guessed"
        return Answer("AE", text, 207, accessions=count)
    if OrderOutcome.UNMATCHED in outcomes:
        text = "no booking fits this order; kept for staff"
        return Answer("AE", text, 204, accessions=count)
    return Answer(
        "AA", "order accepted" if count else "cancelled order; nothing linked", None, "", count
    )


def _payload(head: Header, index: int) -> dict[str, object]:
    return {"control_id": head.control_id, "message_type": head.message_type, "obr": index}


_HANDLERS: dict[str, Callable[[UnitOfWork, Header, Message, int], Awaitable[Answer]]] = {
    "ORU^R01": _report,
    "ORM^O01": _order,
    "OMI^O23": _order,
}


async def handle_message(uow_factory: Callable[[], UnitOfWork], raw: bytes) -> bytes:
    """Apply one HL7 message in one unit of work and return its ACK (never raises)."""
    uow = uow_factory()
    now = uow.clock.now()
    head: Header | None = None
    try:
        message = parse_message(raw)
        head = Header.of(message.msh)
        handler = _HANDLERS.get(head.message_type)
        if handler is None:
            raise Hl7Error(200, "unsupported message type", "MSH^1^9")
        async with uow:
            answer = await handler(uow, head, message, await _site(uow, head))
            await uow.commit()
    except Hl7Error as exc:
        if head is None and exc.msh is not None:  # a character-set error: answer its MSH
            head = Header.of(exc.msh)
        answer = await _keep(
            uow_factory, exc.text, raw, Answer("AR", exc.text, exc.error, exc.where)
        )
    except InvalidInput:
        text = "malformed accession number"
        answer = await _keep(uow_factory, text, raw, Answer("AR", text, 102))
    except Exception as exc:  # the database, mostly: the sender resends on AE
        log.warning("hl7 %s failed: %s", _loggable(head), type(exc).__name__)
        reason = f"not processed ({type(exc).__name__}); the sender should resend"
        answer = await _keep(uow_factory, reason, raw, Answer("AE", "try again later", 207))
    log.info("hl7 %s: %s, %d accession numbers", _loggable(head), answer.code, answer.accessions)
    return build_ack(head, answer, now)


async def _site(uow: UnitOfWork, head: Header) -> int:
    """The site whose HIS/RIS sent the message (MSH-4); among several, an unknown or missing
    facility is refused (AR), never guessed: one hospital's accession numbers mean other
    exams at another."""
    site = await his_site(uow, head.facility)
    if site is None:
        raise Hl7Error(103, "unknown sending facility (MSH-4); not one of our sites", "MSH^1^4")
    return site


async def _keep(
    uow_factory: Callable[[], UnitOfWork], reason: str, raw: bytes, answer: Answer
) -> Answer:
    """Keep the message for staff (of its sender's site, when MSH-4 names one of ours); if
    even that fails, ask the sender to resend (AE)."""
    text = readable(raw)
    try:
        async with uow_factory() as uow:
            site = await his_site(uow, _sender(text)) if _sender(text) else None
            await keep_rejected(uow, SOURCE, reason, text, site=site, kind="hl7")
            await uow.commit()
    except Exception as exc:  # the database is down: nothing is kept, so the sender must resend
        log.warning("hl7 message not kept: %s", type(exc).__name__)
        return Answer("AE", "try again later", 207)
    return answer


def _sender(text: str) -> str | None:
    """MSH-4 (the sending facility's first component) of a message, read however broken the
    rest is; None when there is no MSH segment to read it from."""
    first = text.lstrip().split("\r", 1)[0].split("\n", 1)[0]
    if not first.startswith("MSH") or len(first) < 8:
        return None
    fields = first.split(first[3])
    return fields[3].split(first[4])[0].strip() or None if len(fields) > 3 else None


def _loggable(head: Header | None) -> str:
    if head is None:
        return "(no MSH)"
    control = head.control_id if _LOGGABLE.fullmatch(head.control_id) else "?"
    kind = head.message_type if _LOGGABLE.fullmatch(head.message_type) else "?"
    return f"{control} {kind}"


def make_too_large(
    uow_factory: Callable[[], UnitOfWork], max_frame: int
) -> Callable[[bytes], Awaitable[bytes]]:
    """The answer to a message over the listener's limit (given its start): an AR naming the
    limit, its MSH answered where it is readable, and the start kept for staff."""

    async def too_large(head: bytes) -> bytes:
        now = uow_factory().clock.now()
        msh = head.replace(b"\n", b"\r").split(b"\r", 1)[0]
        try:
            header: Header | None = Header.of(parse_message(msh).msh)
        except Exception:  # not even an MSH: a minimal AR
            header = None
        text = f"message over {max_frame // 1024} KiB; raise RADYAR_MLLP_MAX_FRAME_KB"
        answer = await _keep(uow_factory, text, head, Answer("AR", text, 207))
        log.info("hl7 %s: %s, too large", _loggable(header), answer.code)
        return build_ack(header, answer, now)

    return too_large


def make_handler(uow_factory: Callable[[], UnitOfWork]) -> Callable[[bytes], Awaitable[bytes]]:
    """``handle_message`` bound to a unit-of-work factory, for ``start_mllp_server``."""

    async def handle(raw: bytes) -> bytes:
        return await handle_message(uow_factory, raw)

    return handle
