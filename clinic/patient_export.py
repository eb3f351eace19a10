"""One patient's data written out for them (clinic/patient_data.py): ``patient.json`` and their
prescription files, in a zip.

What is left out, and why, goes in the file's own ``notes``:

- Pickup codes. A code not yet used collects the report at the results desk (with the
  patient's ID card, or a note from them), and this file passes through other hands (an
  admin's chat, a USB stick) on its way; a used one is worth nothing. So none is written, not
  in the reports nor in the notices that carried one: the patient has it in their SMS or chat.
- Other people's data. Family links name only the relation and the other record's id; a
  proxy's name and ID noted when they collected a report stay with reception; a notice asking
  which of a family's bookings an SMS reply was about lists only its ids.
- The text of a notice as sent: it is never stored. What is kept is its kind (the wording)
  and the values filled in (times, codes, the exam), until retention clears them after the
  notice ended (``RADYAR_RETAIN_OUTBOX_DAYS``, 90 days by default): then ``values`` is null.
"""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.files import EXTENSIONS
from clinic.jalali import jalali_iso, to_tehran
from clinic.models import ActorKind, Broadcast

if TYPE_CHECKING:
    from datetime import date, datetime

    from clinic.files import FileStore
    from clinic.models import Booking, OutboxMessage, Referral
    from clinic.patient_records import Holdings
    from clinic.setup_views import DepartmentSetup
    from clinic.uow import UnitOfWork

FORMAT = "radyar-patient-export/1"
LEFT_OUT_PARAMS = ("pickup_code", "choices")  # a live credential; other people's bookings
NOTES = (
    "Pickup codes are not included: a code not yet used collects a report at the results "
    "desk, and this file may pass through other hands. Use the code we sent you by SMS or in "
    "the chat, or ask the results desk.",
    "We never store a notice's text as sent, only its kind and the values filled into its "
    "wording (times, codes, the exam). Those values are removed some time after the notice "
    "ended (90 days unless the hospital chose otherwise); such notices show values: null.",
    "Family links name only how you are related and the other person's record number, never "
    "their details. Drafts and states of other people's chat accounts that act for you are "
    "theirs and are not included.",
    "When someone you sent collected a report, reception noted their name and the ID they "
    "showed; that note is about them and stays with the hospital.",
    "Audit entries name the staff member (by number) or health worker who acted; staff "
    "names are not included.",
    "Hospital messages we could not read at all (refused messages) are not linked to any "
    "patient and are not searched; they are deleted after 30 days unless the hospital chose "
    "otherwise.",
    "Link codes and their failed tries belong to staff and health workers, not to patients.",
)


@dataclass
class PatientExport:
    """One patient's data: ``patient.json`` and their files, ready to zip."""

    patient_id: int
    data: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)  # name in the zip, bytes
    counts: dict[str, int] = field(default_factory=dict)

    def file_name(self, today: date) -> str:
        """A name for the zip, with the Jalali day (Tehran's): ``patient-12-1405-09-08.zip``."""
        return f"patient-{self.patient_id}-{jalali_iso(today).replace('/', '-')}.zip"

    def zip_bytes(self) -> bytes:
        """The zip: ``patient.json`` (UTF-8) and ``files/<referral id>-<n>.<ext>``."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            text = json.dumps(self.data, ensure_ascii=False, indent=2, default=str)
            archive.writestr("patient.json", text.encode("utf-8"))
            for name, data in self.files:
                archive.writestr(name, data)
        return buffer.getvalue()


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _day(moment: datetime) -> dict[str, str]:
    local = to_tehran(moment)
    return {
        "day_jalali": jalali_iso(local.date()),
        "time_tehran": f"{local:%H:%M}",
        "starts_at": moment.isoformat(),
    }


def _exam(setup: DepartmentSetup, exam_id: int) -> dict[str, Any]:
    exam = setup.exams.get(exam_id)
    if exam is None:
        return {"id": exam_id}
    return {"code": exam.code, "name_fa": exam.name_fa, "name_en": exam.name_en}


def _device(setup: DepartmentSetup, device_id: int) -> dict[str, Any]:
    device = setup.devices.get(device_id)
    if device is None:
        return {"id": device_id}
    return {"code": device.code, "name_fa": device.name_fa, "name_en": device.name_en}


def _patient(held: Holdings) -> dict[str, Any]:
    p = held.patient
    return {
        "id": p.id, "national_code": p.national_code, "first_name": p.first_name,
        "last_name": p.last_name, "mobile": p.mobile, "birth_year_jalali": p.birth_year,
        "sex": str(p.sex), "language": p.language,
        "insurer": str(p.insurer) if p.insurer else None, "county": p.county,
        "consent_at": _when(p.consent_at), "consent_via": p.consent_via,
        "registered_by": str(p.registered_by), "registered_at": _when(p.created_at),
        "updated_at": _when(p.updated_at), "missed_appointments": p.no_shows,
        "missed_forgiven": p.no_shows_forgiven,
    }  # fmt: skip


def _accounts(held: Holdings) -> dict[str, Any]:
    return {
        "chat_accounts": [
            {"platform": str(a.platform), "linked_at": _when(a.linked_at)}
            for a in held.own_accounts
        ],
        "acting_for_you": [
            {
                "platform": str(a.platform),
                "you_are_their": str(a.relation or "other"),
                "their_record": held.holders.get((str(a.platform), a.user_id)),
                "since": _when(a.linked_at),
            }
            for a in held.acting_for_them
        ],
        "you_act_for": [
            {
                "record": a.patient_id,
                "they_are_your": str(a.relation or "other"),
                "since": _when(a.linked_at),
            }
            for a in held.they_act_for
        ],
        "chat_drafts": [
            {"platform": str(d.platform), "data": d.data, "updated_at": _when(d.updated_at)}
            for d in held.drafts
        ],
        "chat_conversations": [
            {
                "platform": str(c.platform),
                "name": c.name,
                "state": c.state,
                "updated_at": _when(c.updated_at),
            }
            for c in held.conversations
        ],
    }


def _answers(setup: DepartmentSetup, answers: dict[str, Any]) -> list[dict[str, Any]]:
    by_code = {q.code: q for q in setup.questions.values()}
    shown = []
    for code, answer in answers.items():
        question = by_code.get(code)
        shown.append(
            {
                "question": code,
                "text_fa": question.text_fa if question else None,
                "text_en": question.text_en if question else None,
                "answer": bool(answer),
            }
        )
    return shown


async def _referral(
    setup: DepartmentSetup, referral: Referral, files: FileStore, out: PatientExport
) -> dict[str, Any]:
    row = {
        "id": referral.id, "exam": _exam(setup, referral.exam_id), "site": referral.department_id,
        "source": str(referral.source), "tracking_code": referral.tracking_code,
        "insurer": str(referral.insurer), "status": str(referral.status),
        "reject_reason": referral.reject_reason, "reviewed_at": _when(referral.reviewed_at),
        "submitted_by": str(referral.submitted_by), "created_at": _when(referral.created_at),
        "screening_answers": _answers(setup, referral.screening_answers or {}),
        "prescription_file": None,
    }  # fmt: skip
    if referral.file_ref:
        suffix = (
            EXTENSIONS.get(referral.file_type or "") or PurePosixPath(referral.file_ref).suffix
        )
        in_zip = f"files/{referral.id}-1{suffix}"
        name: str | None = in_zip
        try:
            out.files.append((in_zip, await files.read(referral.file_ref)))
        except NotFound:
            name = None  # gone from the disk (by hand): the metadata is still shown
        row["prescription_file"] = {
            "type": referral.file_type, "size": referral.file_size, "file": name,
        }  # fmt: skip
    return row


def _booking(setup: DepartmentSetup, b: Booking) -> dict[str, Any]:
    return {
        "id": b.id, "code": b.code, "referral": b.referral_id, "exam": _exam(setup, b.exam_id),
        "device": _device(setup, b.device_id), **_day(b.starts_at), "status": str(b.status),
        "channel": str(b.channel), "replaces": b.replaces_id, "cancel_reason": b.cancel_reason,
        "created_at": _when(b.created_at), "confirmed_at": _when(b.confirmed_at),
        "checked_in_at": _when(b.checked_in_at), "ended_at": _when(b.ended_at),
        "walk_in_ticket": b.ticket,
    }  # fmt: skip


def _waitlist(setup: DepartmentSetup, held: Holdings) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id, "referral": e.referral_id, "exam": _exam(setup, e.exam_id),
            "wanted_before": e.wanted_before.isoformat(),
            "wanted_before_jalali": jalali_iso(e.wanted_before), "status": str(e.status),
            "created_at": _when(e.created_at),
            "offers": [
                {"device": _device(setup, o.device_id), **_day(o.starts_at),
                 "expires_at": _when(o.expires_at), "outcome": o.outcome}
                for o in held.offers if o.entry_id == e.id
            ],
        }
        for e in held.waitlist
    ]  # fmt: skip


def _reports(held: Holdings) -> list[dict[str, Any]]:
    return [
        {
            "booking": r.booking_id, "accession_number": r.accession_number,
            "status": str(r.status), "images_ready_at": _when(r.images_ready_at),
            "final_at": _when(r.final_at), "corrected_at": _when(r.corrected_at),
            "collected": r.collected_at is not None, "collected_at": _when(r.collected_at),
            "collected_by": r.collected_to,
        }
        for r in held.reports
    ]  # fmt: skip


async def _notice(uow: UnitOfWork, row: OutboxMessage) -> dict[str, Any]:
    values: dict[str, Any] | None = None
    if row.params:
        values = {k: v for k, v in row.params.items() if k not in LEFT_OUT_PARAMS}
        if "broadcast_id" in values:
            broadcast = await uow.session.get(Broadcast, values["broadcast_id"])
            values["broadcast_text"] = broadcast.text if broadcast else None
    return {
        "kind": row.kind, "to": "you" if row.recipient_kind == ActorKind.PATIENT else
        str(row.recipient_kind), "booking": row.booking_id, "channel": row.channel,
        "status": str(row.status), "created_at": _when(row.created_at),
        "due_at": _when(row.due_at), "sent_at": _when(row.sent_at),
        "sms_delivery": row.delivery_state, "values": values,
    }  # fmt: skip


def _sms(held: Holdings) -> dict[str, Any]:
    return {
        "sms_questions": [
            {"kind": q.kind, "booking": q.booking_id, "asked_at": _when(q.asked_at),
             "answered_at": _when(q.answered_at), "answer": q.answer}
            for q in held.questions
        ],
        "sms_received": [
            {"received_at": _when(m.received_at), "sent_at": _when(m.sent_at),
             "our_line": m.line, "text": m.body, "outcome": m.outcome}
            for m in held.inbound_sms
        ],
    }  # fmt: skip


def _hospital(held: Holdings) -> dict[str, Any]:
    return {
        "told_to_hospital": [
            {"booking": e.booking_id, "system": e.adapter, "change": e.kind,
             "status": str(e.status), "created_at": _when(e.created_at),
             "sent_at": _when(e.sent_at)}
            for e in held.told
        ],
        "hospital_messages": [
            {"source": e.source, "kind": e.kind, "accession_number": e.accession_number,
             "occurred_at": _when(e.occurred_at), "received_at": _when(e.received_at),
             "resolved_at": _when(e.resolved_at), "message": e.payload}
            for e in held.hospital_events
        ],
    }  # fmt: skip


def _audit(held: Holdings) -> list[dict[str, Any]]:
    people = (ActorKind.STAFF, ActorKind.HEALTH_WORKER)
    return [
        {
            "at": _when(e.at), "action": e.action, "record": e.entity, "record_id": e.entity_id,
            "by": str(e.actor_kind), "by_id": e.actor_id if e.actor_kind in people else None,
            "details": {k: v for k, v in (e.details or {}).items() if k != "operator"},
        }
        for e in held.audit
    ]  # fmt: skip


async def build(uow: UnitOfWork, held: Holdings, files: FileStore) -> PatientExport:
    """The export of everything in ``held``, its files read from ``files``."""
    setup = await department_setup(uow)
    out = PatientExport(held.patient.id, {})
    referrals = [await _referral(setup, r, files, out) for r in held.referrals]
    for n, ref in enumerate(held.draft_files(), start=1):  # sent in a request not finished
        with suppress(NotFound):  # already gone: retention removes abandoned uploads
            data = await files.read(ref)
            out.files.append((f"files/draft-{n}{PurePosixPath(ref).suffix}", data))
    out.data = {
        "format": FORMAT,
        "exported_at": uow.clock.now().isoformat(),
        "patient": _patient(held),
        **_accounts(held),
        "referrals": referrals,
        "bookings": [_booking(setup, b) for b in held.bookings],
        "waitlist": _waitlist(setup, held),
        "reports": _reports(held),
        "notices": [await _notice(uow, n) for n in held.notices],
        **_sms(held),
        **_hospital(held),
        "audit": _audit(held),
        "notes": list(NOTES),
    }
    out.counts = held.counts()
    return out


__all__ = ["NOTES", "PatientExport", "build"]
