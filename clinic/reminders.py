"""The notices a confirmed booking schedules: confirmation, reminders and preparation."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.jalali import TEHRAN, to_tehran
from clinic.models import ActorKind, Booking, Exam, PrepStep
from clinic.outbox import Notice, cancel_pending_for_booking, enqueue

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

SAME_DAY = timedelta(hours=24)
NIGHT_STARTS, NIGHT_ENDS, EVENING = time(22, 0), time(7, 0), time(21, 0)


def before_night(due: datetime) -> datetime:
    """Move a notice that would wake people (22:00-07:00 Tehran) to 21:00 the evening before."""
    local = to_tehran(due)
    if NIGHT_ENDS <= local.time() < NIGHT_STARTS:
        return due
    day = local.date() if local.time() >= NIGHT_STARTS else local.date() - timedelta(days=1)
    return datetime.combine(day, EVENING, tzinfo=TEHRAN)


def booking_params(booking: Booking) -> dict[str, object]:
    """Ids and times only: the notifier renders names and places in the recipient's language."""
    return {
        "booking_id": booking.id,
        "code": booking.code,
        "exam_id": booking.exam_id,
        "device_id": booking.device_id,
        "starts_at": booking.starts_at.isoformat(),
    }


async def schedule_booking_notices(
    uow: UnitOfWork, booking: Booking, kind: Notice = Notice.BOOKING_CONFIRMED, **extra: object
) -> None:
    """Queue the confirmation (or move notice), the reminders and the timed preparation."""
    now = uow.clock.now()
    params = booking_params(booking) | extra
    urgent = booking.starts_at - now < SAME_DAY
    await _to_patient(
        uow, booking, kind, f"booking:{booking.id}:{kind.value}", params, urgent=urgent
    )
    exam = await uow.session.get(Exam, booking.exam_id)
    assert exam is not None
    for hours in exam.reminder_hours or uow.policy.reminder_hours:
        due = booking.starts_at - timedelta(hours=hours)
        if due > now:
            key = f"booking:{booking.id}:reminder:{hours}"
            await _to_patient(uow, booking, Notice.REMINDER, key, params | {"hours": hours}, due)
    steps = await uow.session.scalars(
        select(PrepStep).where(PrepStep.exam_id == exam.id, PrepStep.hours_before.is_not(None))
    )
    by_time: dict[float, list[int]] = {}
    for step in steps:
        by_time.setdefault(float(step.hours_before or 0), []).append(step.id)
    for hours_before, step_ids in sorted(by_time.items()):
        from_time = booking.starts_at - timedelta(hours=hours_before)
        due = before_night(from_time)
        if due > now:
            key = f"booking:{booking.id}:prep:{hours_before:g}"
            prep = params | {
                "steps": step_ids,
                "hours_before": hours_before,
                "from": from_time.isoformat(),
            }
            await _to_patient(uow, booking, Notice.PREPARATION, key, prep, due, urgent=True)


async def _to_patient(
    uow: UnitOfWork,
    booking: Booking,
    kind: Notice,
    key: str,
    params: dict[str, object],
    due: datetime | None = None,
    *,
    urgent: bool = False,
) -> None:
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=booking.patient_id,
        kind=kind,
        dedup_key=key,
        params=params,
        due_at=due,
        booking_id=booking.id,
        urgent=urgent,
    )


async def withdraw_booking_notices(uow: UnitOfWork, booking: Booking) -> None:
    """A booking that ended early sends nothing more that was queued for it."""
    await cancel_pending_for_booking(uow, booking.id)
