"""Everything the clinic holds about one patient, gathered from every table that points to
them (by patient, referral, booking, mobile or chat account): what an export writes out and
an erasure removes (clinic/patient_data.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, false, or_, select, tuple_

from clinic.erased import not_erased
from clinic.models import (
    ActorKind,
    AuditEntry,
    Booking,
    ChatAccount,
    ChatConversation,
    ChatUserData,
    InboundSms,
    OutboundEvent,
    OutboxMessage,
    Patient,
    Referral,
    Report,
    SmsQuestion,
    UnmatchedEvent,
    WaitlistEntry,
    WaitlistOffer,
)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from clinic.uow import UnitOfWork

T = TypeVar("T")


@dataclass
class Holdings:
    """One patient's rows, table by table (loaded fresh: ``gather`` again after a change)."""

    patient: Patient
    own_accounts: list[ChatAccount] = field(default_factory=list)  # their own chat accounts
    acting_for_them: list[ChatAccount] = field(default_factory=list)  # family members' accounts
    they_act_for: list[ChatAccount] = field(default_factory=list)  # their accounts, for others
    holders: dict[tuple[str, int], int] = field(default_factory=dict)  # account: its own record
    drafts: list[ChatUserData] = field(default_factory=list)
    conversations: list[ChatConversation] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    waitlist: list[WaitlistEntry] = field(default_factory=list)
    offers: list[WaitlistOffer] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    notices: list[OutboxMessage] = field(default_factory=list)
    questions: list[SmsQuestion] = field(default_factory=list)
    inbound_sms: list[InboundSms] = field(default_factory=list)
    mobile_shared: bool = False  # another record has the same mobile (a family's phone)
    told: list[OutboundEvent] = field(default_factory=list)  # booking changes told the hospital
    hospital_events: list[UnmatchedEvent] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows of each kind the clinic holds about the patient."""
        return {
            "chat_accounts": len(self.own_accounts),
            "family_links": len(self.acting_for_them) + len(self.they_act_for),
            "chat_drafts": len(self.drafts) + len(self.conversations),
            "referrals": len(self.referrals),
            "prescription_files": sum(1 for r in self.referrals if r.file_ref)
            + len(self.draft_files()),
            "bookings": len(self.bookings),
            "waitlist_entries": len(self.waitlist),
            "reports": len(self.reports),
            "notices": len(self.notices),
            "sms_questions": len(self.questions),
            "sms_received": len(self.inbound_sms),
            "told_to_hospital": len(self.told),
            "hospital_messages": len(self.hospital_events),
            "audit_entries": len(self.audit),
        }

    def draft_files(self) -> list[str]:
        """The files uploaded into their unfinished requests (a draft's ``{"ref": …}``)."""
        found: list[str] = []

        def walk(value: object) -> None:
            if isinstance(value, dict):
                ref = value.get("ref")
                if isinstance(ref, str) and {"content_type", "size"} <= value.keys():
                    found.append(ref)
                for inner in value.values():
                    walk(inner)
            elif isinstance(value, list):
                for inner in value:
                    walk(inner)

        for draft in self.drafts:
            walk(draft.data)
        return found

    @property
    def booking_ids(self) -> list[int]:
        """The ids of the patient's bookings."""
        return [b.id for b in self.bookings]

    @property
    def referral_ids(self) -> list[int]:
        """The ids of the patient's referrals."""
        return [r.id for r in self.referrals]


def conversation_keys(account: ChatAccount) -> list[str]:
    """The keys python-telegram-bot's conversations of ``account`` are stored under (JSON of
    its key tuple, bot.persistence: per chat and user, or per user)."""
    return [
        json.dumps([account.chat_id, account.user_id]),
        json.dumps([account.user_id, account.user_id]),
        json.dumps([account.user_id]),
    ]


def _among(columns: tuple[Any, ...], values: list[tuple[Any, ...]]) -> ColumnElement[bool]:
    """True where ``columns`` hold one of ``values`` (none: false)."""
    return tuple_(*columns).in_(values) if values else false()


async def _all(session: AsyncSession, stmt: Select[tuple[T]]) -> list[T]:
    """The rows of ``stmt`` as the database has them now (not as this session last saw them)."""
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def _accounts(uow: UnitOfWork, held: Holdings) -> None:
    session, pid = uow.session, held.patient.id
    rows = await _all(session, select(ChatAccount).where(ChatAccount.patient_id == pid))
    held.own_accounts = [a for a in rows if a.is_self]
    held.acting_for_them = [a for a in rows if not a.is_self]
    own = [(str(a.platform), a.user_id) for a in held.own_accounts]
    pair = (ChatAccount.platform, ChatAccount.user_id)
    held.they_act_for = await _all(
        session,
        select(ChatAccount)
        .where(_among(pair, own), ChatAccount.is_self.is_(False))
        .order_by(ChatAccount.id),
    )
    others = [(str(a.platform), a.user_id) for a in held.acting_for_them]
    holders = await session.execute(
        select(ChatAccount.platform, ChatAccount.user_id, ChatAccount.patient_id).where(
            _among(pair, others), ChatAccount.is_self.is_(True)
        )
    )
    held.holders = {(str(p), u): patient for p, u, patient in holders.tuples()}
    held.drafts = await _all(
        session,
        select(ChatUserData).where(_among((ChatUserData.platform, ChatUserData.user_id), own)),
    )
    keys = [(str(a.platform), k) for a in held.own_accounts for k in conversation_keys(a)]
    held.conversations = await _all(
        session,
        select(ChatConversation).where(
            _among((ChatConversation.platform, ChatConversation.key), keys)
        ),
    )


async def _care(uow: UnitOfWork, held: Holdings) -> None:
    session, pid = uow.session, held.patient.id
    held.referrals = await _all(
        session, select(Referral).where(Referral.patient_id == pid).order_by(Referral.id)
    )
    held.bookings = await _all(
        session, select(Booking).where(Booking.patient_id == pid).order_by(Booking.id)
    )
    held.waitlist = await _all(
        session,
        select(WaitlistEntry).where(WaitlistEntry.patient_id == pid).order_by(WaitlistEntry.id),
    )
    entries = [e.id for e in held.waitlist]
    held.offers = await _all(
        session,
        select(WaitlistOffer)
        .where(WaitlistOffer.entry_id.in_(entries))
        .order_by(WaitlistOffer.id),
    )
    held.reports = await _all(
        session,
        select(Report).where(Report.booking_id.in_(held.booking_ids)).order_by(Report.id),
    )
    numbers = [(r.site_id, r.accession_number) for r in held.reports]
    held.hospital_events = await _all(
        session,
        select(UnmatchedEvent)
        .where(_among((UnmatchedEvent.site_id, UnmatchedEvent.accession_number), numbers))
        .order_by(UnmatchedEvent.id),
    )
    held.told = await _all(
        session,
        select(OutboundEvent)
        .where(OutboundEvent.booking_id.in_(held.booking_ids))
        .order_by(OutboundEvent.id),
    )


async def _messages(uow: UnitOfWork, held: Holdings) -> None:
    session, patient = uow.session, held.patient
    to_them = and_(
        OutboxMessage.recipient_kind == ActorKind.PATIENT,
        OutboxMessage.recipient_id == patient.id,
    )
    held.notices = await _all(
        session,
        select(OutboxMessage)
        .where(or_(to_them, OutboxMessage.booking_id.in_(held.booking_ids)))
        .order_by(OutboxMessage.id),
    )
    held.questions = await _all(
        session,
        select(SmsQuestion).where(SmsQuestion.patient_id == patient.id).order_by(SmsQuestion.id),
    )
    other = await session.scalar(
        select(Patient.id)
        .where(Patient.mobile == patient.mobile, Patient.id != patient.id, not_erased())
        .limit(1)
    )
    held.mobile_shared = bool(patient.mobile) and other is not None
    asked = InboundSms.question_id.in_([q.id for q in held.questions])
    # A phone a family shares: only the replies to this patient's own questions are theirs.
    theirs: ColumnElement[bool] = asked
    if patient.mobile and not held.mobile_shared:
        theirs = or_(asked, InboundSms.mobile == patient.mobile)
    held.inbound_sms = await _all(
        session, select(InboundSms).where(theirs).order_by(InboundSms.id)
    )


async def _audit(uow: UnitOfWork, held: Holdings) -> None:
    about = [
        ("patient", [held.patient.id]),
        ("referral", held.referral_ids),
        ("referral_file", held.referral_ids),
        ("booking", held.booking_ids),
        ("report", [r.id for r in held.reports]),
        ("waitlist", [e.id for e in held.waitlist]),
        ("outbound_event", [e.id for e in held.told]),
    ]
    held.audit = await _all(
        uow.session,
        select(AuditEntry)
        .where(
            or_(
                *(
                    and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_(ids))
                    for entity, ids in about
                    if ids
                )
            )
        )
        .order_by(AuditEntry.id),
    )


async def gather(uow: UnitOfWork, patient: Patient) -> Holdings:
    """Every row the clinic holds about ``patient``, as the database has them now."""
    held = Holdings(patient)
    await _accounts(uow, held)
    await _care(uow, held)
    await _messages(uow, held)
    await _audit(uow, held)
    return held


__all__ = ["Holdings", "conversation_keys", "gather"]
