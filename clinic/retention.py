"""How long patients' data is kept (issue 15, part 2): what a hospital would choose, by
setting (RADYAR_RETAIN_*), run daily by ``radyar run`` and on demand by ``radyar retention
run``, each run counting what it removed.

- Unfinished registrations and other drafts in the chat state: after ``draft_hours`` without
  a step (the next step starts again; nothing booked is lost).
- Uploaded prescriptions no referral points to (abandoned mid-request): after
  ``upload_hours``.
- A referral's prescription file: ``prescription_days`` after the referral closed (rejected,
  withdrawn, or its last booking ended with none still standing); the referral stays, without
  the file.
- Refused hospital messages (their raw text may carry a report, a name): after
  ``refused_days``.
- The parameters of delivered notices (names, reasons, codes): ``outbox_days`` after they
  ended; the row stays for the counts in /metrics.
- One-time SMS checks (a mobile, a national code's digest): a day after they expired.
- The notes telling running bots which chat users' state was deleted (``clinic.chat_forget``:
  ids only): after a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, delete, func, select, update

from clinic import chat_forget
from clinic.models import (
    ACTIVE_BOOKING,
    Booking,
    ChatConversation,
    ChatUserData,
    IdentityCheck,
    OutboxMessage,
    OutboxStatus,
    Referral,
    ReferralStatus,
    RejectedMessage,
)

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.files import FileStore
    from clinic.uow import UnitOfWork

ENDED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.CANCELLED, OutboxStatus.EXPIRED)


@dataclass(frozen=True)
class RetentionRules:
    """How long each kind of data is kept."""

    draft_hours: int = 48
    upload_hours: int = 24
    prescription_days: int = 90
    refused_days: int = 30
    outbox_days: int = 90


@dataclass(frozen=True)
class RetentionReport:
    """What one run removed."""

    drafts: int
    conversations: int
    uploads: int
    prescriptions: int
    refused: int
    notices: int
    identity_checks: int = 0


async def run(uow: UnitOfWork, files: FileStore, rules: RetentionRules) -> RetentionReport:
    """Remove what is past its time; the caller commits (files are gone at once: a file is
    only removed once nothing in the database points to it, or after the row stops)."""
    now = uow.clock.now()
    session = uow.session
    drafts, talks = await _stale_chat_state(uow, now - timedelta(hours=rules.draft_hours))
    uploads = await _abandoned_uploads(uow, files, now - timedelta(hours=rules.upload_hours))
    prescriptions = await _closed_prescriptions(
        uow, files, now - timedelta(days=rules.prescription_days)
    )
    refused = await session.execute(
        delete(RejectedMessage).where(
            RejectedMessage.received_at < now - timedelta(days=rules.refused_days)
        )
    )
    notices = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(ENDED),
            OutboxMessage.due_at < now - timedelta(days=rules.outbox_days),
            cast(OutboxMessage.params, String) != "{}",
        )
        .values(params={})
        .execution_options(synchronize_session=False)
    )
    checks = await session.execute(
        delete(IdentityCheck).where(IdentityCheck.expires_at < now - timedelta(days=1))
    )
    await chat_forget.prune(uow)
    return RetentionReport(
        drafts=drafts, conversations=talks, uploads=uploads,
        prescriptions=prescriptions, refused=_count(refused), notices=_count(notices),
        identity_checks=_count(checks),
    )  # fmt: skip


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _stale_chat_state(uow: UnitOfWork, stale: datetime) -> tuple[int, int]:
    """Delete the drafts and conversation states not touched since ``stale``; a running bot
    is told to forget their users (``clinic.chat_forget``), or it would carry on with what it
    holds in memory and write it back. How many drafts and states went."""
    session = uow.session
    drafts = await session.execute(
        delete(ChatUserData)
        .where(ChatUserData.updated_at < stale)
        .returning(ChatUserData.platform, ChatUserData.user_id)
        .execution_options(synchronize_session=False)
    )
    users = set(drafts.tuples().all())
    talks = await session.execute(
        delete(ChatConversation)
        .where(ChatConversation.updated_at < stale)
        .returning(ChatConversation.platform, ChatConversation.key)
        .execution_options(synchronize_session=False)
    )
    keys = talks.tuples().all()
    of_keys = {(p, u) for p, k in keys if (u := chat_forget.user_of_key(k)) is not None}
    chat_forget.note(uow, users | of_keys)
    return len(users), len(keys)


async def _abandoned_uploads(uow: UnitOfWork, files: FileStore, before: datetime) -> int:
    """Files written before ``before`` that no referral points to."""
    candidates = await files.older_than(before)
    if not candidates:
        return 0
    kept = set(
        await uow.session.scalars(
            select(Referral.file_ref).where(Referral.file_ref.in_(candidates))
        )
    )
    removed = 0
    for ref in candidates:
        if ref not in kept and await files.delete(ref):
            removed += 1
    return removed


async def _closed_prescriptions(uow: UnitOfWork, files: FileStore, before: datetime) -> int:
    """Files of referrals closed before ``before``: rejected (when reviewed), withdrawn, or
    approved with every booking ended (its last end) and none standing."""
    session = uow.session
    last_end = (
        select(Booking.referral_id, func.max(Booking.ended_at).label("ended"))
        .group_by(Booking.referral_id)
        .subquery()
    )
    standing = select(Booking.referral_id).where(Booking.status.in_(ACTIVE_BOOKING))
    rows = await session.execute(
        select(
            Referral.id,
            Referral.file_ref,
            Referral.status,
            Referral.reviewed_at,
            Referral.created_at,
            last_end.c.ended,
        )
        .outerjoin(last_end, last_end.c.referral_id == Referral.id)
        .where(Referral.file_ref.is_not(None), Referral.id.not_in(standing))
    )
    removed = 0
    for referral_id, ref, status, reviewed_at, created_at, ended in rows.tuples().all():
        if status == ReferralStatus.REJECTED or status == ReferralStatus.WITHDRAWN:
            closed = reviewed_at or created_at
        else:
            closed = ended
        if closed is None or closed >= before:
            continue
        await files.delete(ref)
        await session.execute(
            update(Referral).where(Referral.id == referral_id).values(file_ref=None)
        )
        removed += 1
    return removed


__all__ = ["RetentionReport", "RetentionRules", "run"]
