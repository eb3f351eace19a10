"""Delivering one claimed outbox row: re-check, route (chat, else SMS), send, record."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from clinic import outbox_store
from clinic.actors import Actor
from clinic.calendar_file import CALENDAR_CAPTION, CalendarFile, booking_calendar
from clinic.errors import ClinicError
from clinic.family import notice_text
from clinic.i18n import translator
from clinic.jalali import TEHRAN, to_tehran
from clinic.log_redaction import keyed
from clinic.models import (
    ACTIVE_BOOKING,
    ActorKind,
    BookingStatus,
    ChatAccount,
    HealthWorker,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Platform,
)
from clinic.outbox import SMS_REPLIES, Notice
from clinic.sms_questions import record_question
from notifier import identity_sms
from notifier.budget import Priority
from notifier.channels import (
    ChatChannel,
    DeliveryError,
    PermanentFailure,
    RateLimited,
    SmsChannel,
    TransientFailure,
    Unreachable,
)
from notifier.render import Rendered, render
from notifier.retry import backoff

if TYPE_CHECKING:
    from collections.abc import Sequence

    from clinic.policy import Department
    from clinic.uow import UnitOfWork
    from notifier.sms.base import SmsReceipt

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What one delivery attempt came to (the row's new status, or that it was not ours)."""

    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PENDING = "pending"  # back in the queue: a retry, a rate limit, the quiet hours
    SKIPPED = "skipped"  # not ours any more: another worker has it, or it is no longer sending


QUIET_FROM, QUIET_UNTIL = time(22, 0), time(7, 0)
GIVE_UP_AFTER = timedelta(hours=24)
# A chat notice failing for the platform's own trouble goes by SMS after this long from when it
# was due (same-day changes and waitlist offers soon, reminders later), and in any case this
# long before it would stop being of use.
SMS_AFTER_URGENT = timedelta(minutes=10)
SMS_AFTER = timedelta(hours=1)
SMS_AFTER_REMINDER = timedelta(hours=3)
SMS_MARGIN = timedelta(minutes=15)
REMINDER_LAST = timedelta(hours=1)  # a reminder later than this before the exam is not sent
# What a pending row's ``channel`` says before it is sent: a chat attempt timed out (it may
# have arrived, so no SMS may follow it), or chat was given up for SMS (no chat may follow).
CHAT_UNSURE, SMS_INSTEAD = "chat?", "sms"
# Notices about a booking that only make sense while it still stands.
NEEDS_ACTIVE_BOOKING = {
    Notice.REMINDER,
    Notice.PREPARATION,
    Notice.BOOKING_CONFIRMED,
    Notice.BOOKING_RESCHEDULED,
    Notice.CLOSURE_MOVED,
}


@dataclass(frozen=True)
class DeliveryRules:
    """When non-urgent SMS may go (Tehran time; equal ends: any time), when to give up, when
    a failing chat notice goes by SMS instead, and how late a reminder is still worth it."""

    quiet_from: time = QUIET_FROM
    quiet_until: time = QUIET_UNTIL
    give_up_after: timedelta = GIVE_UP_AFTER
    sms_after_urgent: timedelta = SMS_AFTER_URGENT
    sms_after: timedelta = SMS_AFTER
    sms_after_reminder: timedelta = SMS_AFTER_REMINDER
    reminder_last: timedelta = REMINDER_LAST


@dataclass
class Channels:
    """The channels this worker may use, and the rules it delivers by."""

    chat: dict[Platform, ChatChannel] = field(default_factory=dict)
    sms: SmsChannel | None = None
    rules: DeliveryRules = field(default_factory=DeliveryRules)


def in_quiet_hours(moment: datetime, rules: DeliveryRules | None = None) -> bool:
    """Inside the SMS quiet hours (default 22:00-07:00 in Tehran)."""
    rules = rules or DeliveryRules()
    local = to_tehran(moment).time()
    start, end = rules.quiet_from, rules.quiet_until
    if start == end:
        return False
    if start < end:  # a window inside one day, e.g. 13:00-15:00
        return start <= local < end
    return local >= start or local < end  # across midnight


def after_quiet_hours(moment: datetime, rules: DeliveryRules | None = None) -> datetime:
    """The end of the quiet hours ``moment`` falls in (Tehran time)."""
    rules = rules or DeliveryRules()
    local = to_tehran(moment)
    end = rules.quiet_until
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=TEHRAN)


def hashed(value: str) -> str:
    """A short stand-in for a number in logs (keyed: not reversible by trying numbers)."""
    return keyed(value)


def record_receipt(row: OutboxMessage, receipt: SmsReceipt) -> None:
    """Keep the gateway's ``provider:id`` and the state it gave, to poll the delivery state
    until it is final; committed with SENT."""
    row.provider_ref = receipt.ref
    row.delivery_state = receipt.state.value
    row.delivery_checked_at = None


def priority_of(row: OutboxMessage) -> Priority:
    """Broadcasts yield to every other notice; same-day changes go before the rest."""
    if row.kind == Notice.BROADCAST:
        return Priority.BULK
    return Priority.URGENT if row.urgent else Priority.NOTICE


async def still_relevant(uow: UnitOfWork, row: OutboxMessage) -> bool:
    """Re-check at send time: a reminder for a cancelled booking, a taken offer, send nothing."""
    if row.booking_id is None:
        return True
    booking = await outbox_store.booking_of(uow, row)
    if booking is None:
        return False
    kind = Notice(row.kind)
    if kind is Notice.WAITLIST_OFFER:
        return booking.status == BookingStatus.HELD and bool(
            booking.hold_expires_at and booking.hold_expires_at > uow.clock.now()
        )
    if kind in NEEDS_ACTIVE_BOOKING:
        return booking.status in ACTIVE_BOOKING and booking.starts_at > uow.clock.now()
    return True


def sms_after(row: OutboxMessage, rules: DeliveryRules) -> timedelta:
    """How long after it was due a chat notice may keep failing before SMS takes over."""
    kind = Notice(row.kind)
    if kind is Notice.REMINDER:
        return rules.sms_after_reminder
    if row.urgent or kind is Notice.WAITLIST_OFFER:
        return rules.sms_after_urgent
    return rules.sms_after


async def useful_until(
    uow: UnitOfWork, row: OutboxMessage, rules: DeliveryRules
) -> datetime | None:
    """When the notice stops being of use (None: it stays of use): a reminder an hour before
    the exam, an offer when its hold ends, another notice of a booking when the exam starts."""
    if row.booking_id is None:
        return None
    booking = await outbox_store.booking_of(uow, row)
    if booking is None:
        return None
    kind = Notice(row.kind)
    if kind is Notice.REMINDER:
        return booking.starts_at - rules.reminder_last
    if kind is Notice.WAITLIST_OFFER:
        return booking.hold_expires_at
    if kind in NEEDS_ACTIVE_BOOKING:
        return booking.starts_at
    return None


def sms_from(row: OutboxMessage, useful: datetime | None, rules: DeliveryRules) -> datetime:
    """From when a notice whose chat keeps failing goes by SMS instead."""
    at = row.due_at + sms_after(row, rules)
    return at if useful is None else min(at, useful - SMS_MARGIN)


async def deliver(
    uow: UnitOfWork, row_id: int, channels: Channels, department: Department
) -> Outcome:
    """Deliver one claimed row and record the outcome (commits); returns what it came to."""
    row = await outbox_store.leased(uow, row_id)
    if row is None:
        return Outcome.SKIPPED
    if row.kind in identity_sms.KINDS:  # one-time codes and their security notice: SMS only
        return Outcome((await identity_sms.deliver(uow, row, channels, department)).value)
    if not await still_relevant(uow, row):
        return await _finish(uow, row, OutboxStatus.CANCELLED, error="no longer relevant")
    useful = await useful_until(uow, row, channels.rules)
    if row.kind == Notice.REMINDER and useful is not None and uow.clock.now() >= useful:
        minutes = int(channels.rules.reminder_last.total_seconds() // 60)
        return await _finish(
            uow, row, OutboxStatus.EXPIRED,
            error=f"expired: not delivered by {minutes} minutes before the exam",
        )  # fmt: skip
    if row.recipient_kind in (ActorKind.HEALTH_WORKER, ActorKind.STAFF):
        return await _deliver_to_colleague(uow, row, channels, department)
    if row.recipient_kind != ActorKind.PATIENT:
        return await _finish(uow, row, OutboxStatus.FAILED, error="recipient kind not supported")
    recipient = await outbox_store.patient_recipient(uow, row.recipient_id)
    if recipient is None:
        return await _finish(uow, row, OutboxStatus.FAILED, error="recipient not found")
    patient = recipient.patient
    fallback = sms_from(row, useful, channels.rules)
    rendered = await render(uow, row, patient.language, department)
    calendar = await calendar_of(uow, row, patient.language)
    await _end_reads(uow)
    try:
        channel = await _send(
            uow, row, patient, recipient.accounts, rendered, channels, fallback, calendar
        )
    except RateLimited as exc:
        row.status = OutboxStatus.PENDING
        row.attempts = max(row.attempts - 1, 0)  # being told to wait is not a failure
        row.next_attempt_at = uow.clock.now() + timedelta(seconds=exc.retry_after)
        row.last_error = "rate limited"
        await uow.commit()
        return Outcome.PENDING
    except PermanentFailure as exc:
        return await _finish(uow, row, OutboxStatus.FAILED, error=str(exc)[:200])
    except (TransientFailure, Unreachable) as exc:
        # Tried again no later than when SMS may take over (so the switch is not missed), or
        # when a reminder stops being of use (so it is recorded as expired then).
        now = uow.clock.now()
        wake = [t for t in (fallback, useful if row.kind == Notice.REMINDER else None) if t]
        not_after = min((t for t in wake if t > now), default=None)
        return await _retry_or_fail(uow, row, str(exc)[:200], channels.rules, not_after)
    if channel is None:  # deferred to the end of the quiet hours
        return Outcome.PENDING
    await _copy_to_worker(recipient.health_worker, patient, rendered, channels)
    return await _finish(uow, row, OutboxStatus.SENT, channel=channel)


async def _end_reads(uow: UnitOfWork) -> None:
    """End the reading transaction before the network: on SQLite every transaction holds the
    write lock (BEGIN IMMEDIATE), which must not wait on a chat or SMS gateway. The leased row
    is ours alone; the outcome is written in a short transaction of its own."""
    await uow.commit()


async def _send(
    uow: UnitOfWork,
    row: OutboxMessage,
    patient: Patient,
    accounts: Sequence[ChatAccount],
    rendered: Rendered,
    channels: Channels,
    fallback_at: datetime,
    calendar: tuple[CalendarFile, str] | None = None,
) -> str | None:
    """One primary channel per message; SMS only when chat is not possible or failed.

    Chat goes to the patient's accounts in order (their own first, the one used last first),
    one try per platform. A blocked bot or a missing chat falls back to SMS at once; the
    platform's own trouble (refused, 5xx) is tried again until ``fallback_at``, then SMS takes
    over for good. A time-out may have delivered the message: then chat is tried again, never
    SMS, so a patient never gets one notice twice by two channels.

    The name of the channel that took it, or None when an SMS waits for the quiet hours' end.
    """
    failing: TransientFailure | None = None
    tried: set[Platform] = set()
    # An answer to an SMS reply goes back by SMS, to the phone that wrote (in a family, not to
    # the chat of whoever books for them).
    by_chat = row.channel != SMS_INSTEAD and Notice(row.kind) not in SMS_REPLIES
    for account in accounts if by_chat else ():
        platform = Platform(account.platform)
        channel = channels.chat.get(platform)
        if channel is None or platform in tried:
            continue
        tried.add(platform)
        text = notice_text(rendered.chat, account, patient)  # a family member's: labelled
        try:
            await channel.send(account.chat_id, text, rendered.buttons, priority_of(row))
        except Unreachable:
            log.info("outbox %s: chat unreachable on %s, falling back", row.id, channel.name)
            continue
        except TransientFailure as exc:
            if not exc.definite:
                row.channel = CHAT_UNSURE
                raise
            failing = exc
            continue
        if calendar is not None:
            await _send_calendar(row, channel, account.chat_id, *calendar)
        return channel.name
    if failing is not None:
        if row.channel == CHAT_UNSURE or uow.clock.now() < fallback_at:
            raise failing
        log.info("outbox %s: chat failing (%s), by SMS instead", row.id, failing)
        row.channel = SMS_INSTEAD
    if channels.sms is None:
        raise Unreachable("no chat account and no SMS channel")
    if in_quiet_hours(uow.clock.now(), channels.rules) and not row.urgent:
        row.status = OutboxStatus.PENDING
        row.attempts = max(row.attempts - 1, 0)
        row.next_attempt_at = after_quiet_hours(uow.clock.now(), channels.rules)
        await uow.commit()
        return None
    receipt = await channels.sms.send(
        patient.mobile, rendered.sms, idempotency_key=f"radyar-{row.id}"
    )
    record_receipt(row, receipt)
    await record_question(uow, row, patient.mobile)  # a reminder or offer asks for a reply
    log.info("outbox %s: sms to %s", row.id, hashed(patient.mobile))
    return channels.sms.name


# Appointments the bot did not already send a calendar file for: a booking made at the desk,
# by phone or by a health worker, and any move by a closure.
CALENDAR_NOTICES = {Notice.BOOKING_CONFIRMED, Notice.BOOKING_RESCHEDULED, Notice.CLOSURE_MOVED}


async def calendar_of(
    uow: UnitOfWork, row: OutboxMessage, lang: str
) -> tuple[CalendarFile, str] | None:
    """The ``.ics`` file (and its caption) a chat notice carries, or None."""
    kind = Notice(row.kind)
    if kind not in CALENDAR_NOTICES or row.booking_id is None:
        return None
    booking = await outbox_store.booking_of(uow, row)
    if booking is None or (kind is not Notice.CLOSURE_MOVED and booking.channel == "chat"):
        return None  # the patient booked in the bot, which sent the file then
    try:
        found = await booking_calendar(uow, Actor.system(), booking.id, lang)
    except ClinicError:
        return None
    return found, translator(lang).gettext(CALENDAR_CAPTION)


async def _send_calendar(
    row: OutboxMessage, channel: ChatChannel, chat_id: int, calendar: CalendarFile, caption: str
) -> None:
    """Best effort: the notice itself went; a file that does not is not sent again."""
    try:
        await channel.send_file(chat_id, calendar.file_name, calendar.data, calendar.mime_type,
                                caption)  # fmt: skip
    except DeliveryError as exc:
        log.info("outbox %s: calendar file not sent (%s)", row.id, type(exc).__name__)


async def _copy_to_worker(
    worker: HealthWorker | None, patient: Patient, rendered: Rendered, channels: Channels
) -> None:
    """A health-house patient's worker gets a chat copy (best effort)."""
    if worker is None:
        return
    for platform, user_id in (
        (Platform.TELEGRAM, worker.telegram_user_id),
        (Platform.BALE, worker.bale_user_id),
    ):
        channel = channels.chat.get(platform)
        if channel is not None and user_id is not None:
            try:
                await channel.send(
                    user_id, f"{patient.first_name} {patient.last_name}:\n{rendered.chat}"
                )
            except DeliveryError:
                log.info("copy to health worker %s not delivered", worker.id)
            return


async def _deliver_to_colleague(
    uow: UnitOfWork, row: OutboxMessage, channels: Channels, department: Department
) -> Outcome:
    """A health worker or staff member gets chat where linked, else SMS to their mobile."""
    worker = await outbox_store.colleague(uow, row.recipient_kind, row.recipient_id)
    if worker is None or not worker.active:
        return await _finish(uow, row, OutboxStatus.CANCELLED, error="recipient not active")
    rendered = await render(uow, row, "fa", department)
    await _end_reads(uow)
    try:
        for platform, user_id in (
            (Platform.TELEGRAM, worker.telegram_user_id),
            (Platform.BALE, worker.bale_user_id),
        ):
            channel = channels.chat.get(platform)
            if channel is not None and user_id is not None:
                try:
                    await channel.send(user_id, rendered.chat, rendered.buttons, priority_of(row))
                except Unreachable:
                    continue
                return await _finish(uow, row, OutboxStatus.SENT, channel=channel.name)
        if channels.sms is None or not worker.mobile:
            raise Unreachable("no chat account and no SMS channel or mobile")
        receipt = await channels.sms.send(
            worker.mobile, rendered.sms, idempotency_key=f"radyar-{row.id}"
        )
        record_receipt(row, receipt)
    except RateLimited as exc:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = uow.clock.now() + timedelta(seconds=exc.retry_after)
        await uow.commit()
        return Outcome.PENDING
    except PermanentFailure as exc:
        return await _finish(uow, row, OutboxStatus.FAILED, error=str(exc)[:200])
    except (TransientFailure, Unreachable) as exc:
        return await _retry_or_fail(uow, row, str(exc)[:200], channels.rules)
    return await _finish(uow, row, OutboxStatus.SENT, channel=channels.sms.name)


async def _retry_or_fail(
    uow: UnitOfWork,
    row: OutboxMessage,
    error: str,
    rules: DeliveryRules,
    not_after: datetime | None = None,
) -> Outcome:
    now = uow.clock.now()
    if now - row.due_at > rules.give_up_after:  # from when it was due, not written
        return await _finish(uow, row, OutboxStatus.FAILED, error=f"gave up: {error}")
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = backoff(row.attempts, now)
    if not_after is not None and now < not_after < row.next_attempt_at:
        row.next_attempt_at = not_after
    row.last_error = error
    row.lease_until = None
    await uow.commit()
    return Outcome.PENDING


async def _finish(
    uow: UnitOfWork,
    row: OutboxMessage,
    status: OutboxStatus,
    *,
    error: str | None = None,
    channel: str | None = None,
) -> Outcome:
    row.status = status
    row.last_error = error
    row.channel = channel
    row.lease_until = None
    if status is OutboxStatus.SENT:
        row.sent_at = uow.clock.now()
    await uow.commit()
    log.info("outbox %s %s: %s", row.id, row.kind, status)
    return Outcome(status.value)
