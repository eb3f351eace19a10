"""Answers by SMS reply: an inbound SMS is kept once, matched to the latest question sent to
its mobile, and confirms, cancels, takes or declines; a family sharing a mobile is asked which
booking; anything else gets one help SMS, and the next unreadable one goes to staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic import audit, sites
from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking
from clinic.errors import ClinicError, TooLateToCancel
from clinic.hospital_inbox import keep_rejected
from clinic.models import ActorKind, Booking, InboundSms, SmsQuestion
from clinic.outbox import Notice, enqueue
from clinic.reminders import booking_params
from clinic.sms_answers import Answer, parse_answer, parse_choice, says_nothing
from clinic.sms_questions import (
    ATTENDING,
    CHOICE,
    OFFER,
    booking_of,
    canonical_mobile,
    close,
    is_live,
    open_choice,
    open_questions,
    patient_for,
    record_question,
)
from clinic.waitlist import mark_declined

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.uow import UnitOfWork

__all__ = ["IncomingSms", "Outcome", "handle_inbound", "record_question"]

HELP_ONCE_IN = timedelta(hours=24)  # one help SMS a day; the next unreadable reply: staff
TOO_OLD = timedelta(hours=24)  # a reply the gateway held longer than this is kept, not acted on
SOURCE = "sms"  # in the hospital inbox staff look through (clinic.hospital_inbox)
UNREADABLE = "patient's SMS reply we could not read"
STRANGER = "SMS from a number no patient has"


class Outcome(StrEnum):
    """What came of one inbound SMS (kept on its row; logged with its id, never its text)."""

    DUPLICATE = "duplicate"  # the gateway handed this message over before
    CONFIRMED = "confirmed"  # "1" to a reminder: attendance confirmed
    CANCELLED = "cancelled"  # "2" to a reminder: the booking cancelled
    TOO_LATE = "too_late"  # "2" inside the cancel notice: told to call
    TAKEN = "taken"  # "1" to an offer: the place booked
    DECLINED = "declined"  # "2" to an offer: the place passed on
    OFFER_GONE = "offer_gone"  # "1" to an offer no longer held
    CLOSED = "closed"  # the booking asked about no longer takes answers
    ASKED_WHICH = "asked_which"  # a family's mobile: asked which booking
    HELP_SENT = "help_sent"
    TO_STAFF = "to_staff"
    IGNORED = "ignored"  # more from a number no patient has, already with staff today
    STALE = "stale"  # sent too long ago to act on
    NOTHING = "nothing"  # thanks, a greeting, an emoji: no answer needed
    NOT_MOBILE = "not_mobile"  # the sender is not a mobile number


@dataclass(frozen=True)
class IncomingSms:
    """An SMS a phone sent to our line, as a gateway handed it over."""

    provider: str
    message_id: str
    sender: str
    text: str
    line: str = ""
    sent_at: datetime | None = None  # the gateway's time, when it says


Result = tuple[Outcome, int | None]  # and the question it answered or asked


async def handle_inbound(uow: UnitOfWork, sms: IncomingSms) -> Outcome:
    """Act on an inbound SMS once: a second delivery of the same gateway message id is a
    DUPLICATE and does nothing. Replies go to the outbox; the caller commits. Raises nothing
    for anything the message says."""
    mobile = canonical_mobile(sms.sender)
    inbound = await _keep(uow, sms, mobile)
    if inbound is None:
        return Outcome.DUPLICATE
    outcome, question = await _handle(uow, inbound, sms, mobile)
    inbound.outcome, inbound.question_id = outcome.value, question
    await uow.session.flush()
    return outcome


async def _keep(uow: UnitOfWork, sms: IncomingSms, mobile: str | None) -> InboundSms | None:
    """The message's row, new; None when this gateway id was kept before (a conflict on the
    unique key waits for a concurrent insert of it, then does nothing)."""
    values = {
        "provider": _clean(sms.provider, 20),
        "provider_message_id": _clean(sms.message_id, 64),
        "mobile": _clean(mobile or sms.sender, 20),
        "line": _clean(sms.line, 20),
        "body": _clean(sms.text),
        "sent_at": sms.sent_at,
        "received_at": uow.clock.now(),
        "outcome": "received",
    }
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = insert(InboundSms).values(**values).on_conflict_do_nothing()
    result = await uow.session.execute(stmt.returning(InboundSms.id))
    new_id = result.scalar()
    return None if new_id is None else await uow.session.get(InboundSms, new_id)


def _clean(text: str, length: int | None = None) -> str:
    # PostgreSQL refuses NUL in text: a forwarded message with one must not fail forever.
    return text.replace("\x00", "")[:length]


async def _handle(
    uow: UnitOfWork, inbound: InboundSms, sms: IncomingSms, mobile: str | None
) -> Result:
    if mobile is None:
        return Outcome.NOT_MOBILE, None
    now = uow.clock.now()
    sent_at = sms.sent_at if sms.sent_at is not None and sms.sent_at < now else now
    if now - sent_at > TOO_OLD:
        return Outcome.STALE, None
    if says_nothing(sms.text):
        return Outcome.NOTHING, None
    choice = await open_choice(uow, mobile)
    if choice is not None:
        return await _answer_choice(uow, inbound, choice, mobile)
    answer = parse_answer(sms.text)
    questions = await open_questions(uow, mobile, sent_at) if answer is not None else []
    if answer is None or not questions:
        return await _unreadable(uow, inbound, mobile)
    live = [q for q in questions if await is_live(uow, q)]
    if len({q.patient_id for q in live}) > 1:
        return await _ask_which(uow, inbound, live, answer, mobile)
    return await apply_answer(uow, inbound, (live or questions)[0], answer)


async def apply_answer(
    uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion, answer: Answer
) -> Result:
    """Do what ``answer`` says to ``question`` and queue the SMS that tells the patient."""
    if question.kind == OFFER:
        outcome = await (_take(uow, inbound, question) if answer is Answer.YES else
                         _decline(uow, inbound, question))  # fmt: skip
    elif not await is_live(uow, question):
        await close(uow, question, Outcome.CLOSED)
        await _reply(uow, inbound, question, Notice.SMS_CLOSED)
        outcome = Outcome.CLOSED
    elif answer is Answer.YES:
        outcome = await _attending(uow, inbound, question)
    else:
        outcome = await _cancel(uow, inbound, question)
    return outcome, question.id


async def _attending(uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion) -> Outcome:
    # No booking column for it: the answer is kept on the question (clinic.sms_questions.
    # attendance_confirmed), and audited. The question stays open: a patient who said "1"
    # may still answer "2" while the cancel notice allows.
    question.answer = ATTENDING
    await audit.record(
        uow, Actor.system(), "booking.attendance_confirmed", "booking", question.booking_id,
        via="sms", question=question.id,
    )  # fmt: skip
    await _reply(uow, inbound, question, Notice.SMS_CONFIRMED)
    return Outcome.CONFIRMED


async def _cancel(uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion) -> Outcome:
    patient = Actor.patient(question.patient_id)
    assert question.booking_id is not None  # a reminder's question has its booking
    try:
        async with uow.session.begin_nested():
            await cancel_booking(uow, patient, question.booking_id, reason="patient_sms")
    except TooLateToCancel:
        # Left open: "1" (coming) can still be answered.
        await _reply(uow, inbound, question, Notice.SMS_TOO_LATE)
        return Outcome.TOO_LATE
    except ClinicError:
        await close(uow, question, Outcome.CLOSED)
        await _reply(uow, inbound, question, Notice.SMS_CLOSED)
        return Outcome.CLOSED
    await close(uow, question, Outcome.CANCELLED)
    await _reply(uow, inbound, question, Notice.BOOKING_CANCELLED)
    return Outcome.CANCELLED


async def _take(uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion) -> Outcome:
    if await is_live(uow, question):
        assert question.booking_id is not None
        try:
            async with uow.session.begin_nested():
                await confirm_booking(uow, Actor.patient(question.patient_id), question.booking_id)
        except ClinicError:
            pass  # the hold ran out meanwhile
        else:  # its confirmation (or move notice) is queued by the booking itself
            await close(uow, question, Outcome.TAKEN)
            return Outcome.TAKEN
    await close(uow, question, Outcome.OFFER_GONE)
    await _reply(uow, inbound, question, Notice.SMS_OFFER_GONE)
    return Outcome.OFFER_GONE


async def _decline(uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion) -> Outcome:
    if await is_live(uow, question):
        assert question.booking_id is not None
        try:
            async with uow.session.begin_nested():
                held = await cancel_booking(
                    uow, Actor.patient(question.patient_id), question.booking_id,
                    reason="offer_declined",
                )  # fmt: skip
                await mark_declined(uow, held)
        except ClinicError:
            pass  # it lapsed meanwhile: passed on all the same
    await close(uow, question, Outcome.DECLINED)
    await _reply(uow, inbound, question, Notice.SMS_OFFER_DECLINED)
    return Outcome.DECLINED


async def _ask_which(
    uow: UnitOfWork,
    inbound: InboundSms,
    live: list[SmsQuestion],
    answer: Answer,
    mobile: str,
) -> Result:
    """Several patients on this mobile were asked: list their bookings, by time, to choose."""
    timed = [(b.starts_at, q) for q in live if (b := await booking_of(uow, q)) is not None]
    timed.sort(key=lambda pair: (pair[0], pair[1].id))
    choice = SmsQuestion(
        mobile=mobile,
        patient_id=live[0].patient_id,  # the one asked last: the choice goes to them
        kind=CHOICE,
        options=[q.id for _, q in timed],
        pending=answer.value,
        asked_at=uow.clock.now(),
    )
    uow.session.add(choice)
    await uow.session.flush()
    choices = [q.booking_id for _, q in timed]
    await _send(uow, inbound, choice.patient_id, Notice.SMS_CHOICE, {"choices": choices})
    return Outcome.ASKED_WHICH, choice.id


async def _answer_choice(
    uow: UnitOfWork, inbound: InboundSms, choice: SmsQuestion, mobile: str
) -> Result:
    options = choice.options or []
    number = parse_choice(inbound.body, len(options))
    if number is None:
        return await _unreadable(uow, inbound, mobile)  # the choice still waits
    choice.answered_at, choice.answer = uow.clock.now(), str(number)
    question = await uow.session.get(SmsQuestion, options[number - 1])
    if question is None:
        return await _unreadable(uow, inbound, mobile)
    return await apply_answer(uow, inbound, question, Answer(choice.pending or Answer.NO))


async def _unreadable(uow: UnitOfWork, inbound: InboundSms, mobile: str) -> Result:
    """Not an answer to anything open: one help SMS a day, then staff."""
    patient_id, booking_id = await patient_for(uow, mobile)
    since = uow.clock.now() - HELP_ONCE_IN
    if patient_id is None:
        if await _count(uow, mobile, Outcome.TO_STAFF, since):
            return Outcome.IGNORED, None
        await keep_rejected(uow, SOURCE, STRANGER, f"{mobile}: {inbound.body}", kind="text")
        return Outcome.TO_STAFF, None
    if not await _count(uow, mobile, Outcome.HELP_SENT, since):
        await _send(uow, inbound, patient_id, Notice.SMS_HELP, {})
        return Outcome.HELP_SENT, None
    site = None
    if booking_id is not None:
        booking = await uow.session.get(Booking, booking_id)
        site = await sites.device_site(uow, booking.device_id) if booking else None
    body = f"{mobile}: {inbound.body}"
    await keep_rejected(uow, SOURCE, UNREADABLE, body, site=site, kind="text")
    return Outcome.TO_STAFF, None


async def _count(uow: UnitOfWork, mobile: str, outcome: Outcome, since: datetime) -> int:
    found = await uow.session.scalar(
        select(func.count())
        .select_from(InboundSms)
        .where(
            InboundSms.mobile == mobile,
            InboundSms.outcome == outcome.value,
            InboundSms.received_at >= since,
        )
    )
    return int(found or 0)


async def _reply(
    uow: UnitOfWork, inbound: InboundSms, question: SmsQuestion, kind: Notice
) -> None:
    booking = await booking_of(uow, question)
    params = dict(booking_params(booking)) if booking is not None else {}
    await _send(uow, inbound, question.patient_id, kind, params)


async def _send(
    uow: UnitOfWork, inbound: InboundSms, patient_id: int, kind: Notice, params: dict[str, object]
) -> None:
    """One answer per inbound message, at once (the patient has just written to us)."""
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=patient_id,
        kind=kind,
        dedup_key=f"sms:{inbound.id}:reply",
        params=params,
        urgent=True,
    )
