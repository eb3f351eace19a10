"""Writing notifications to the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.models import ActorKind, OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from clinic.uow import UnitOfWork


class Notice(StrEnum):
    """The kinds of notification; the notifier renders each in the recipient's language."""

    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_APPROVED = "referral_approved"
    REFERRAL_REJECTED = "referral_rejected"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_RESCHEDULED = "booking_rescheduled"
    REMINDER = "reminder"
    PREPARATION = "preparation"
    WAITLIST_OFFER = "waitlist_offer"
    CLOSURE_MOVED = "closure_moved"
    CLOSURE_CANCELLED = "closure_cancelled"
    IMAGES_READY = "images_ready"
    REPORT_READY = "report_ready"
    REPORT_CORRECTED = "report_corrected"
    BROADCAST = "broadcast"
    LINK_CODE_REVOKED = "link_code_revoked"  # to the staff member who issued the code
    LINK_CODE_USED = "link_code_used"  # to the staff member who issued it: an account linked
    # Answers to a patient's SMS reply (clinic/sms_replies.py).
    SMS_CONFIRMED = "sms_confirmed"  # "1" to a reminder: we expect you
    SMS_TOO_LATE = "sms_too_late"  # "2" inside the cancel notice: please call
    SMS_CLOSED = "sms_closed"  # the appointment asked about is no longer open to answers
    SMS_OFFER_GONE = "sms_offer_gone"  # "1" to an offer no longer held
    SMS_OFFER_DECLINED = "sms_offer_declined"  # "2" to an offer: still on the waitlist
    SMS_CHOICE = "sms_choice"  # a mobile shared by a family: which booking is it about?
    SMS_HELP = "sms_help"  # a reply we could not read
    # By SMS only (clinic/identity_checks.py): a one-time code, to the mobile of the identity
    # check ``recipient_id``; and to a record's mobile, that someone new may now act for it.
    IDENTITY_CODE = "identity_code"
    RECORD_LINKED = "record_linked"


# The answers to an SMS reply: they go by SMS, at once (the patient has just written).
SMS_REPLIES = frozenset(
    {
        Notice.SMS_CONFIRMED,
        Notice.SMS_TOO_LATE,
        Notice.SMS_CLOSED,
        Notice.SMS_OFFER_GONE,
        Notice.SMS_OFFER_DECLINED,
        Notice.SMS_CHOICE,
        Notice.SMS_HELP,
    }
)


# Notices someone is waiting for at this moment (a one-time SMS code, and the notice to the
# record's mobile that goes with it): an outbox worker of this process is woken when one is
# queued (``wake_on_asked_for``); workers of other processes find it at their next look.
ASKED_FOR = frozenset({Notice.IDENTITY_CODE, Notice.RECORD_LINKED})
_waiting: dict[int, Callable[[], None]] = {}


def wake_on_asked_for(call: Callable[[], None]) -> Callable[[], None]:
    """Have ``call`` made after each commit that queued an ``ASKED_FOR`` notice; returns the
    function that stops it."""
    key = id(call)
    _waiting[key] = call

    def stop() -> None:
        _waiting.pop(key, None)

    return stop


def _wake() -> None:
    for call in list(_waiting.values()):
        call()


async def enqueue(
    uow: UnitOfWork,
    *,
    recipient_kind: ActorKind,
    recipient_id: int,
    kind: Notice,
    dedup_key: str,
    params: dict[str, Any] | None = None,
    due_at: datetime | None = None,
    booking_id: int | None = None,
    urgent: bool = False,
) -> None:
    """Queue a notice once: a second call with the same ``dedup_key`` does nothing."""
    now = uow.clock.now()
    due = due_at or now
    values = {
        "recipient_kind": recipient_kind,
        "recipient_id": recipient_id,
        "kind": kind.value,
        "params": params or {},
        "booking_id": booking_id,
        "due_at": due,
        "urgent": urgent,
        "dedup_key": dedup_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    await uow.session.execute(stmt)
    if kind in ASKED_FOR:
        uow.after_commit("outbox.asked_for", _wake)


async def cancel_pending_for_booking(uow: UnitOfWork, booking_id: int, *kinds: Notice) -> int:
    """Withdraw pending notices of a booking (e.g. its reminders once it is cancelled)."""
    stmt = update(OutboxMessage).where(
        OutboxMessage.booking_id == booking_id,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    if kinds:
        stmt = stmt.where(OutboxMessage.kind.in_([k.value for k in kinds]))
    result = await uow.session.execute(stmt.values(status=OutboxStatus.CANCELLED))
    return int(getattr(result, "rowcount", 0) or 0)


async def pending(uow: UnitOfWork, **filters: Any) -> list[OutboxMessage]:
    """Outbox rows still to be sent, filtered by column values, in due order."""
    stmt = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    for column, value in filters.items():
        stmt = stmt.where(getattr(OutboxMessage, column) == value)
    return list(await uow.session.scalars(stmt.order_by(OutboxMessage.due_at, OutboxMessage.id)))
