"""Removing a patient's personal data, table by table, once nothing of theirs is still open
(clinic/patient_data.py checks that and cancels first): what only serves them goes; what the
hospital's records need (bookings, reports with their accession numbers, referrals, the
audit log) stays, without anything that says who they were."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, update

from clinic import chat_forget
from clinic.erased import NAME, erased_code
from clinic.models import (
    ActorKind,
    Booking,
    ChatAccount,
    ChatConversation,
    ChatUserData,
    IdentityCheck,
    InboundSms,
    LinkThrottle,
    OutboundEvent,
    OutboxMessage,
    OutboxStatus,
    Referral,
    Report,
    SmsQuestion,
    UnmatchedEvent,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic.patient_records import conversation_keys

if TYPE_CHECKING:
    from sqlalchemy.sql import Executable

    from clinic.files import FileStore
    from clinic.patient_records import Holdings
    from clinic.uow import UnitOfWork

UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# Counted in the summary: what went, what was emptied in place, what stays (without identity).
KEPT_NOTE = (
    "bookings, reports (with their accession numbers), referrals, notices (kind, status, "
    "times) and what the hospital's systems were told stay for the hospital's records, "
    "without identity; the audit log stays whole (it is append-only and holds no personal data)"
)


@dataclass
class ErasureSummary:
    """What an erasure did (or, with ``erased`` false, why it is not done yet)."""

    patient_id: int
    erased: bool
    cancelled: int = 0  # appointments cancelled first (held or confirmed)
    withdrawn: int = 0  # open requests withdrawn first
    waiting: int = 0  # booking changes the hospital's systems have yet to take
    removed: dict[str, int] = field(default_factory=dict)
    emptied: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    # The chat accounts that were the patient's own (platform, user id): a running bot forgets
    # what it holds in memory for them. Never shown or logged.
    accounts: tuple[tuple[str, int], ...] = ()

    def details(self) -> dict[str, Any]:
        """The counts, for the audit entry (no personal data)."""
        return {
            "cancelled": self.cancelled, "withdrawn": self.withdrawn, "removed": self.removed,
            "emptied": self.emptied, "kept": self.kept,
        }  # fmt: skip


async def _run(uow: UnitOfWork, stmt: Executable) -> int:
    result = await uow.session.execute(stmt.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def _chat(uow: UnitOfWork, held: Holdings) -> dict[str, int]:
    """Their chat accounts, their drafts and conversation states, and every family link."""
    removed = {"chat_drafts": 0, "conversations": 0, "link_tries": 0}
    now = uow.clock.now()
    for account in held.own_accounts:
        platform, user = account.platform, account.user_id
        removed["chat_drafts"] += await _run(
            uow,
            delete(ChatUserData).where(
                ChatUserData.platform == platform, ChatUserData.user_id == user
            ),
        )
        removed["conversations"] += await _run(
            uow,
            delete(ChatConversation).where(
                ChatConversation.platform == platform,
                ChatConversation.key.in_(conversation_keys(account)),
            ),
        )
        # Failed /link tries of the account: gone, unless it is locked out right now (a lock
        # must not be lifted by asking for erasure).
        removed["link_tries"] += await _run(
            uow,
            delete(LinkThrottle).where(
                LinkThrottle.scope == str(platform),
                LinkThrottle.user_id == user,
                (LinkThrottle.locked_until.is_(None)) | (LinkThrottle.locked_until <= now),
            ),
        )
    links = [a.id for a in held.acting_for_them + held.they_act_for]
    removed["family_links"] = await _run(uow, delete(ChatAccount).where(ChatAccount.id.in_(links)))
    removed["chat_accounts"] = await _run(
        uow, delete(ChatAccount).where(ChatAccount.id.in_([a.id for a in held.own_accounts]))
    )
    return removed


async def _waitlist_and_sms(uow: UnitOfWork, held: Holdings) -> dict[str, int]:
    entries = [e.id for e in held.waitlist]
    await _run(
        uow, update(Booking).where(Booking.waitlist_id.in_(entries)).values(waitlist_id=None)
    )
    questions = [q.id for q in held.questions]
    inbound = await _run(
        uow, delete(InboundSms).where(InboundSms.id.in_([m.id for m in held.inbound_sms]))
    )
    # A reply from a phone another record shares stays theirs, without its link to this one.
    await _run(
        uow,
        update(InboundSms).where(InboundSms.question_id.in_(questions)).values(question_id=None),
    )
    return {
        "waitlist_offers": await _run(
            uow, delete(WaitlistOffer).where(WaitlistOffer.entry_id.in_(entries))
        ),
        "waitlist_entries": await _run(
            uow, delete(WaitlistEntry).where(WaitlistEntry.id.in_(entries))
        ),
        "sms_received": inbound,
        "sms_questions": await _run(uow, delete(SmsQuestion).where(SmsQuestion.id.in_(questions))),
        # one-time SMS codes sent to their mobile (they live minutes; retention keeps a day)
        "sms_code_checks": await _run(
            uow, delete(IdentityCheck).where(IdentityCheck.patient_id == held.patient.id)
        ),
    }


async def _notices(uow: UnitOfWork, held: Holdings) -> tuple[int, int]:
    """Unsent notices go; the others keep their kind, status and times, not their values."""
    ids = [n.id for n in held.notices]
    unsent = await _run(
        uow,
        delete(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(UNSENT)),
    )
    emptied = await _run(
        uow,
        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(params={}, last_error=None),
    )
    return unsent, emptied


async def _records(uow: UnitOfWork, held: Holdings) -> dict[str, int]:
    """The hospital's records lose what says who, or what the patient said."""
    referrals = held.referral_ids
    bookings = held.booking_ids
    reports = [r.id for r in held.reports]
    events = [e.id for e in held.hospital_events]
    return {
        "referrals": await _run(
            uow,
            update(Referral)
            .where(Referral.id.in_(referrals))
            .values(
                tracking_code=None,
                file_ref=None,
                file_type=None,
                file_size=None,
                screening_answers={},
                reject_reason=None,
            ),
        ),
        "bookings": await _run(
            uow,
            update(Booking)
            .where(Booking.id.in_(bookings), Booking.created_by == ActorKind.PATIENT)
            .values(created_by_id=None),  # a family member booking for them: who they were
        ),
        # The code would still find the report at the desk; the proxy's note names someone.
        "reports": await _run(
            uow,
            update(Report)
            .where(Report.id.in_(reports))
            .values(pickup_code="", collected_note=None),
        ),
        "hospital_messages": await _run(
            uow, update(UnmatchedEvent).where(UnmatchedEvent.id.in_(events)).values(payload={})
        ),
        "told_to_hospital": await _run(
            uow,
            update(OutboundEvent)
            .where(and_(OutboundEvent.booking_id.in_(bookings), OutboundEvent.answer.is_not(None)))
            .values(answer=None),
        ),
    }


def _anonymise(uow: UnitOfWork, held: Holdings) -> None:
    """The row stays (bookings point to it) with no identity. Birth year and sex are not
    counted by the Ministry's report (``radyar report bookings``: appointments by day,
    modality and channel); the birth year goes (0), the sex stays only because its column
    cannot be empty without a migration, and alone it says nothing of who."""
    p = held.patient
    p.national_code = erased_code(p.id)
    p.mobile = ""
    p.first_name = p.last_name = NAME
    p.birth_year = 0
    p.insurer = None
    p.county = None
    p.consent_at = None
    p.consent_via = None
    p.registered_by_id = None
    p.health_worker_id = None
    p.updated_at = uow.clock.now()


async def erase(uow: UnitOfWork, held: Holdings, files: FileStore) -> ErasureSummary:
    """Erase what ``held`` holds; the caller has cancelled what was open. The files go from
    the disk last, once the rows no longer point to them (the caller commits)."""
    summary = ErasureSummary(held.patient.id, erased=True)
    summary.accounts = tuple((str(a.platform), a.user_id) for a in held.own_accounts)
    chat_forget.note(uow, summary.accounts)  # a running bot forgets what it holds for them
    refs = [r.file_ref for r in held.referrals if r.file_ref] + held.draft_files()
    summary.removed = await _chat(uow, held)
    summary.removed |= await _waitlist_and_sms(uow, held)
    unsent, emptied = await _notices(uow, held)
    summary.removed["unsent_notices"] = unsent
    summary.emptied = await _records(uow, held)
    summary.emptied["notices"] = emptied
    _anonymise(uow, held)
    await uow.session.flush()
    removed = 0
    for ref in refs:
        removed += await files.delete(ref)
    summary.removed["prescription_files"] = removed
    summary.kept = {
        "bookings": len(held.bookings),
        "reports": len(held.reports),
        "referrals": len(held.referrals),
        "notices": len(held.notices) - unsent,
        "told_to_hospital": len(held.told),
        "audit_entries": len(held.audit),
    }
    return summary


__all__ = ["KEPT_NOTE", "ErasureSummary", "erase"]
