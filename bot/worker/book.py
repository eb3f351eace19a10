"""Days, times, hold and confirm as the health worker, for a referral or a booking to move."""

from __future__ import annotations

from datetime import date, datetime

from bot.callbacks import MAX_ID, Callback, pack
from bot.context import BotContext
from bot.handlers.common import explain
from bot.keyboards import choices, paged
from bot.views import booking_card, digits
from bot.worker.common import Press, View, back, my_patient
from bot.worker.patients import full_name
from clinic.actors import Actor
from clinic.availability import BookableTime, bookable_days, bookable_times
from clinic.booking import confirm_booking, get_booking, hold_slot, reschedule_hold
from clinic.errors import N_, NotFound, SlotFull, SlotUnavailable
from clinic.jalali import TEHRAN, format_day_short, format_time
from clinic.models import Booking, BookingStatus
from clinic.referrals import get_referral
from clinic.uow import UnitOfWork

CHOOSE_DAY = N_("Please choose a day (the number of free places is in brackets):")
CHOOSE_TIME = N_("Please choose a time on {day}:")
NO_DAYS = N_(
    "There are no free places in the coming {days} days. Please try again later, or call the "
    "department."
)
NO_TIMES = N_("That day has just filled up. Please choose another day.")
HELD = N_(
    "This time is kept for {name} for {minutes} minutes. Please check it with the patient and "
    "confirm."
)
CONFIRM = N_("✅ Confirm")
OTHER_TIME = N_("🔁 Another time")
BOOKED = N_("Booked for {name}. The patient will get an SMS with the details.")
MORE, BACK = N_("More days ›"), N_("‹ Earlier days")
LATER_TIMES, EARLIER_TIMES = N_("Later times ›"), N_("‹ Earlier times")
TO_PATIENT = N_("‹ Back to the patient")
TIMES_PAGE = 24

Target = tuple[str, int]


def _target(choice: Callback) -> Target:
    target_id = choice.int_arg(1)
    if not choice.args or choice.args[0] not in ("ref", "bk") or not target_id:
        raise NotFound()
    return choice.args[0], target_id


async def _exam_of(uow: UnitOfWork, worker: Actor, target: Target) -> tuple[int, int]:
    """(exam id, patient id) of the worker's referral or booking; NotFound for others'."""
    kind, target_id = target
    if not 0 < target_id <= MAX_ID:
        raise NotFound()
    found = (
        await get_referral(uow, worker, target_id)
        if kind == "ref"
        else await get_booking(uow, worker, target_id)
    )
    await my_patient(uow, worker, found.patient_id)
    return found.exam_id, found.patient_id


async def days_view(
    context: BotContext, worker: Actor, target: Target, page: int = 0, note: str | None = None
) -> View:
    """The bookable days for the referral or the booking to move."""
    async with context.services.uow() as uow:
        exam_id, patient_id = await _exam_of(uow, worker, target)
        days = await bookable_days(uow, exam_id)
    lang = context.lang
    to_patient = (context._(TO_PATIENT), pack("wpat", patient_id))
    if not days:
        horizon = digits(str(context.services.policy.horizon_days), lang)
        return context._(NO_DAYS).format(days=horizon), back(context, to_patient)
    items = [
        (
            f"{format_day_short(d.day, lang)} ({digits(str(d.free), lang)})",
            pack("wday", *target, f"{d.day:%Y%m%d}"),
        )
        for d in days
    ]
    markup = paged(
        items,
        page,
        "wdays",
        *target,
        more=context._(MORE),
        back=context._(BACK),
        columns=2,
        extra=[to_patient],
    )
    text = context._(CHOOSE_DAY)
    return (f"{note}\n\n{text}" if note else text), markup


async def days(p: Press) -> View:
    """A page of days."""
    return await days_view(p.context, p.worker, _target(p.choice), p.choice.int_arg(2) or 0)


async def day(p: Press) -> View:
    """The free times of the chosen day."""
    target = _target(p.choice)
    return await times_view(p.context, p.worker, target, p.choice.day_arg(2), p.choice.int_arg(3))


async def times_view(
    context: BotContext,
    worker: Actor,
    target: Target,
    day: date | None,
    page: int | None = 0,
    note: str | None = None,
) -> View:
    """One page of the day's free times (the days again when it has none)."""
    async with context.services.uow() as uow:
        exam_id, _ = await _exam_of(uow, worker, target)
        times = await bookable_times(uow, exam_id, day) if day else []
    if day is None or not times:
        shown = note or (context._(NO_TIMES) if day else None)
        return await days_view(context, worker, target, note=shown)
    lang = context.lang
    items = [
        (
            format_time(t.starts_at, lang),
            pack("whold", *target, t.device_id, f"{t.starts_at.astimezone(TEHRAN):%Y%m%d%H%M}"),
        )
        for t in _one_per_start(times)
    ]
    markup = paged(
        items,
        page or 0,
        "wday",
        *target,
        f"{day:%Y%m%d}",
        more=context._(LATER_TIMES),
        back=context._(EARLIER_TIMES),
        columns=4,
        size=TIMES_PAGE,
        extra=[(context._(BACK), pack("wdays", *target, 0))],
    )
    text = context._(CHOOSE_TIME).format(day=format_day_short(day, lang))
    return (f"{note}\n\n{text}" if note else text), markup


def _one_per_start(times: list[BookableTime]) -> list[BookableTime]:
    seen: set[datetime] = set()
    unique = []
    for t in times:
        if t.starts_at not in seen:
            seen.add(t.starts_at)
            unique.append(t)
    return unique


async def hold(p: Press) -> View:
    """Hold the chosen time (on another device free then, if need be) and show the card."""
    target, device_id, starts = _target(p.choice), p.choice.int_arg(2), p.choice.moment_arg(3)
    if device_id is None or starts is None:
        return await days_view(p.context, p.worker, target)
    try:
        try:
            held, card = await _hold_at(p.context, p.worker, target, device_id, starts)
        except (SlotFull, SlotUnavailable):
            other = await _other_device(p.context, p.worker, target, device_id, starts)
            if other is None:
                raise
            held, card = await _hold_at(p.context, p.worker, target, other, starts)
    except (SlotFull, SlotUnavailable):
        taken = explain(SlotFull(), p.context)
        return await times_view(p.context, p.worker, target, starts.date(), note=taken)
    buttons = [
        (p.context._(CONFIRM), pack("wok", held.id)),
        (p.context._(OTHER_TIME), pack("wdays", *target, 0)),
    ]
    return card, choices(buttons, columns=2)


async def _hold_at(
    context: BotContext, worker: Actor, target: Target, device_id: int, starts: datetime
) -> tuple[Booking, str]:
    async with context.services.uow() as uow:
        _, patient_id = await _exam_of(uow, worker, target)
        patient = await my_patient(uow, worker, patient_id)
        if target[0] == "ref":
            held = await hold_slot(uow, worker, target[1], device_id, starts)
        else:
            held = await reschedule_hold(uow, worker, target[1], device_id, starts)
        minutes = digits(str(context.services.policy.hold_minutes), context.lang)
        title = context._(HELD).format(name=full_name(patient), minutes=minutes)
        card = await booking_card(uow, context, held, title)
        await uow.commit()
    return held, card


async def _other_device(
    context: BotContext, worker: Actor, target: Target, device_id: int, starts: datetime
) -> int | None:
    async with context.services.uow() as uow:
        exam_id, _ = await _exam_of(uow, worker, target)
        times = await bookable_times(uow, exam_id, starts.date())
    free = (t.device_id for t in times if t.starts_at == starts and t.device_id != device_id)
    return next(free, None)


async def confirm(p: Press) -> View | None:
    """Confirm the held time as the worker; a second tap changes nothing."""
    context, booking_id = p.context, p.choice.int_arg(0)
    if booking_id is None:
        raise NotFound()
    async with context.services.uow() as uow:
        before = await get_booking(uow, p.worker, booking_id)
        already = before.status == BookingStatus.CONFIRMED
        booking = await confirm_booking(uow, p.worker, booking_id)
        patient = await my_patient(uow, p.worker, booking.patient_id)
        title = "✅ " + context._(BOOKED).format(name=full_name(patient))
        card = await booking_card(uow, context, booking, title)
        await uow.commit()
    if already:
        return None  # a double tap: the card already says so
    return card, back(context, (context._(TO_PATIENT), pack("wpat", booking.patient_id)))
