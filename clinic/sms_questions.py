"""The one-digit questions our SMS ask (a reminder's "1 = coming, 2 = cancel", an offer's
"1 = take it, 2 = no thanks"): recorded when the SMS goes, found again when a reply comes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.errors import InvalidMobile
from clinic.identity import parse_mobile
from clinic.models import ActorKind, Booking, BookingStatus, Patient, SmsQuestion
from clinic.outbox import Notice

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.models import OutboxMessage
    from clinic.uow import UnitOfWork

REMINDER, OFFER, CHOICE = "reminder", "offer", "choice"
ATTENDING = "confirmed"  # a reminder's answer "1": kept on the question, which stays open
# The notices whose SMS asks a question, and the question's kind.
ASKING = {Notice.REMINDER.value: REMINDER, Notice.WAITLIST_OFFER.value: OFFER}
CHOICE_OPEN_FOR = timedelta(hours=24)  # "which booking?" waits this long for its digit
# The gateway's clock may run a little ahead of ours: a reply stamped this much before the
# question was recorded may still answer it (the question is recorded just after the send).
SKEW = timedelta(minutes=5)


def canonical_mobile(raw: str) -> str | None:
    """``09xxxxxxxxx`` for what a gateway says the sender was (+98…, 0098…, 98…, Persian
    digits), else None."""
    try:
        return parse_mobile(raw)
    except InvalidMobile:
        return None


async def record_question(uow: UnitOfWork, row: OutboxMessage, mobile: str) -> None:
    """Record the question an SMS of ``row`` just asked ``mobile`` (call it when an SMS of any
    kind is sent; kinds that ask nothing, or with answers by SMS off, do nothing). Recording
    the same row twice records it once. Raises nothing."""
    kind = ASKING.get(str(row.kind))
    if not uow.policy.sms_replies or kind is None or row.booking_id is None:
        return
    if row.recipient_kind != ActorKind.PATIENT:
        return
    values = {
        "mobile": canonical_mobile(mobile) or mobile[:11],
        "patient_id": row.recipient_id,
        "booking_id": row.booking_id,
        "kind": kind,
        "outbox_id": row.id,
        "asked_at": uow.clock.now(),
    }
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = insert(SmsQuestion).values(**values)
    await uow.session.execute(stmt.on_conflict_do_nothing(index_elements=["outbox_id"]))


async def open_questions(uow: UnitOfWork, mobile: str, sent_at: datetime) -> list[SmsQuestion]:
    """The unanswered reminder and offer questions to ``mobile`` a reply sent at ``sent_at``
    may answer, the latest first, one per booking (its latest)."""
    now = uow.clock.now()
    rows = await uow.session.scalars(
        select(SmsQuestion)
        .where(
            SmsQuestion.mobile == mobile,
            SmsQuestion.answered_at.is_(None),
            SmsQuestion.kind != CHOICE,
            SmsQuestion.asked_at <= sent_at + SKEW,
            SmsQuestion.asked_at >= now - timedelta(hours=uow.policy.sms_reply_hours),
        )
        .order_by(SmsQuestion.asked_at.desc(), SmsQuestion.id.desc())
        .with_for_update()
    )
    found: dict[int | None, SmsQuestion] = {}
    for question in rows:
        found.setdefault(question.booking_id, question)
    return list(found.values())


async def open_choice(uow: UnitOfWork, mobile: str) -> SmsQuestion | None:
    """The "which booking?" asked of ``mobile`` still waiting for its digit, if any."""
    found: SmsQuestion | None = await uow.session.scalar(
        select(SmsQuestion)
        .where(
            SmsQuestion.mobile == mobile,
            SmsQuestion.answered_at.is_(None),
            SmsQuestion.kind == CHOICE,
            SmsQuestion.asked_at >= uow.clock.now() - CHOICE_OPEN_FOR,
        )
        .order_by(SmsQuestion.asked_at.desc(), SmsQuestion.id.desc())
        .limit(1)
        .with_for_update()
    )
    return found


async def booking_of(uow: UnitOfWork, question: SmsQuestion) -> Booking | None:
    """The booking a reminder or offer question is about."""
    if question.booking_id is None:
        return None
    return await uow.session.get(Booking, question.booking_id)


async def is_live(uow: UnitOfWork, question: SmsQuestion) -> bool:
    """Whether an answer can still act: the reminded booking stands and has not started, the
    offered place is still held."""
    booking = await booking_of(uow, question)
    if booking is None:
        return False
    now = uow.clock.now()
    if question.kind == OFFER:
        return booking.status == BookingStatus.HELD and bool(
            booking.hold_expires_at and booking.hold_expires_at > now
        )
    return booking.status == BookingStatus.CONFIRMED and booking.starts_at > now


async def close(uow: UnitOfWork, question: SmsQuestion, answer: str) -> None:
    """The question is answered (``answer`` says what came of it), and so is every other open
    question about the same booking: a later reply is not matched to them."""
    now = uow.clock.now()
    question.answered_at, question.answer = now, answer
    if question.booking_id is not None:
        await uow.session.execute(
            update(SmsQuestion)
            .where(
                SmsQuestion.booking_id == question.booking_id,
                SmsQuestion.answered_at.is_(None),
            )
            .values(answered_at=now, answer=answer)
            .execution_options(synchronize_session=False)
        )


async def patient_for(uow: UnitOfWork, mobile: str) -> tuple[int | None, int | None]:
    """(the patient to answer a reply from ``mobile``, the booking they were last asked about):
    the patient last asked a question, else the patient last registered with this mobile."""
    last: SmsQuestion | None = await uow.session.scalar(
        select(SmsQuestion)
        .where(SmsQuestion.mobile == mobile, SmsQuestion.kind != CHOICE)
        .order_by(SmsQuestion.asked_at.desc(), SmsQuestion.id.desc())
        .limit(1)
    )
    if last is not None:
        return last.patient_id, last.booking_id
    patient_id = await uow.session.scalar(
        select(Patient.id)
        .where(Patient.mobile == mobile)
        .order_by(Patient.updated_at.desc(), Patient.id.desc())
        .limit(1)
    )
    return patient_id, None


async def choice_lines(uow: UnitOfWork, booking_ids: list[int]) -> list[tuple[str, datetime]]:
    """(first name, starts at) of each booking, in the order given, for "which booking?"."""
    rows = await uow.session.execute(
        select(Booking.id, Patient.first_name, Booking.starts_at)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.id.in_(booking_ids))
    )
    found = {row.id: (row.first_name, row.starts_at) for row in rows}
    return [found[i] for i in booking_ids if i in found]


async def attendance_confirmed(uow: UnitOfWork, booking_ids: list[int]) -> set[int]:
    """Of ``booking_ids``, those whose patient answered a reminder "1" (coming) by SMS, for
    staff's day list."""
    if not booking_ids:
        return set()
    rows = await uow.session.scalars(
        select(SmsQuestion.booking_id).where(
            SmsQuestion.booking_id.in_(booking_ids),
            SmsQuestion.kind == REMINDER,
            SmsQuestion.answer == ATTENDING,
        )
    )
    return {booking_id for booking_id in rows if booking_id is not None}
