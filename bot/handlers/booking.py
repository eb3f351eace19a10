"""Choosing a day and a time, holding it and confirming: stateless buttons that carry ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.callbacks import MAX_ID, Callback, pack, pattern, unpack
from bot.context import BotContext
from bot.handlers.common import explain, not_modified
from bot.keyboards import choices, main_menu, paged
from bot.views import booking_card, digits
from clinic.actors import Actor
from clinic.availability import BookableTime, bookable_days, bookable_times
from clinic.booking import confirm_booking, get_booking, hold_slot, reschedule_hold
from clinic.errors import N_, ClinicError, NotAllowed, NotFound, SlotFull, SlotUnavailable
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
HELD = N_("We are keeping this time for you for {minutes} minutes. Please check and confirm.")
CONFIRM = N_("✅ Confirm")
OTHER_TIME = N_("🔁 Another time")
BOOKED = N_("Your appointment is booked. We will remind you before it.")
MORE, BACK = N_("More days ›"), N_("‹ Earlier days")
LATER_TIMES, EARLIER_TIMES = N_("Later times ›"), N_("‹ Earlier times")
ALREADY_BOOKED = N_("This appointment is already booked.")
TIMES_PAGE = 24  # six rows of four: a day of ten-minute slots on two devices stays readable
NEED_LOGIN = N_("Please send /start first.")
ANYTHING_ELSE = N_("Is there anything else I can do for you?")


def _me(context: BotContext) -> Actor | None:
    pid = context.visitor.patient_id
    return Actor.patient(pid) if pid is not None else None


async def _answer(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text, or send a new one if it cannot be edited."""
    query = update.callback_query
    assert query is not None
    if markup is not None and not markup.inline_keyboard:
        markup = None  # an empty keyboard is not a valid one
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # A double tap asks for the same edit twice: the message already says this.
        if not not_modified(error) and query.message is not None:
            await context.bot.send_message(query.message.chat.id, text, reply_markup=markup)


async def send_days(
    update: Update,
    context: BotContext,
    target: str,
    target_id: int,
    page: int = 0,
    note: str | None = None,
) -> None:
    """List the bookable days for a referral (``ref``) or a booking to move (``bk``).

    Raises NotFound for a referral or booking that is not this patient's.
    """
    me = _me(context)
    assert me is not None
    async with context.services.uow() as uow:
        exam_id = await _exam_of(uow, me, target, target_id)
        days = await bookable_days(uow, exam_id)
    lang = context.lang
    if not days:
        text = context._(NO_DAYS).format(
            days=digits(str(context.services.policy.horizon_days), lang)
        )
        await _reply(update, context, text, None)
        return
    items = [
        (
            f"{format_day_short(d.day, lang)} ({digits(str(d.free), lang)})",
            pack("day", target, target_id, f"{d.day:%Y%m%d}"),
        )
        for d in days
    ]
    markup = paged(
        items,
        page,
        "days",
        target,
        target_id,
        more=context._(MORE),
        back=context._(BACK),
        columns=2,
    )
    text = context._(CHOOSE_DAY)
    await _reply(update, context, f"{note}\n\n{text}" if note else text, markup)


async def _reply(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    if update.callback_query is not None:
        await _answer(update, context, text, markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def _exam_of(uow: UnitOfWork, me: Actor, target: str, target_id: int) -> int:
    if not 0 < target_id <= MAX_ID:
        raise NotFound()
    if target == "ref":
        return (await get_referral(uow, me, target_id)).exam_id
    return (await get_booking(uow, me, target_id)).exam_id


def _target(choice: Callback | None) -> tuple[str, int] | None:
    if choice is None or len(choice.args) < 2 or choice.args[0] not in ("ref", "bk"):
        return None
    target_id = choice.int_arg(1)
    return (choice.args[0], target_id) if target_id is not None else None


async def days_pressed(update: Update, context: BotContext) -> None:
    """Show a page of days."""
    await _pressed(update, context, _days)


async def _days(
    update: Update, context: BotContext, choice: Callback, target: tuple[str, int]
) -> None:
    await send_days(update, context, *target, page=choice.int_arg(2) or 0)


async def day_pressed(update: Update, context: BotContext) -> None:
    """Show the free times of the chosen day."""
    await _pressed(update, context, _times)


async def _times(
    update: Update, context: BotContext, choice: Callback, target: tuple[str, int]
) -> None:
    await show_times(update, context, target, choice.day_arg(2), choice.int_arg(3) or 0)


async def show_times(
    update: Update,
    context: BotContext,
    target: tuple[str, int],
    day: date | None,
    page: int = 0,
    note: str | None = None,
) -> None:
    """The free times of ``day`` a page at a time (the days again when it has none)."""
    me = _me(context)
    assert me is not None
    async with context.services.uow() as uow:
        exam_id = await _exam_of(uow, me, *target)
        times = await bookable_times(uow, exam_id, day) if day else []
    if day is None or not times:
        await send_days(
            update, context, *target, note=note or (context._(NO_TIMES) if day else None)
        )
        return
    lang = context.lang
    items = [
        (
            format_time(t.starts_at, lang),
            pack("hold", *target, t.device_id, f"{t.starts_at.astimezone(TEHRAN):%Y%m%d%H%M}"),
        )
        for t in _one_per_start(times)
    ]
    markup = paged(
        items,
        page,
        "day",
        *target,
        f"{day:%Y%m%d}",
        more=context._(LATER_TIMES),
        back=context._(EARLIER_TIMES),
        columns=4,
        size=TIMES_PAGE,
        extra=[(context._(BACK), pack("days", *target, 0))],
    )
    text = context._(CHOOSE_TIME).format(day=format_day_short(day, lang))
    await _answer(update, context, f"{note}\n\n{text}" if note else text, markup)


def _one_per_start(times: list[BookableTime]) -> list[BookableTime]:
    """One button per start time: the patient chooses a time, not a device (first wins)."""
    seen: set[datetime] = set()
    unique = []
    for t in times:
        if t.starts_at not in seen:
            seen.add(t.starts_at)
            unique.append(t)
    return unique


async def hold_pressed(update: Update, context: BotContext) -> None:
    """Hold the chosen time and show the confirmation card."""
    await _pressed(update, context, _hold)


async def _hold(
    update: Update, context: BotContext, choice: Callback, target: tuple[str, int]
) -> None:
    device_id = choice.int_arg(2)
    starts = choice.moment_arg(3)
    me = _me(context)
    assert me is not None
    if device_id is None or starts is None:
        await send_days(update, context, *target)
        return
    try:
        held, card = await _hold_somewhere(context, me, target, device_id, starts)
    except (SlotFull, SlotUnavailable):
        # Taken by someone else a moment ago (or no longer bookable): the day's other times.
        taken = explain(SlotFull(), context)
        await show_times(update, context, target, starts.date(), note=taken)
        return
    except ClinicError as error:
        # Someone else's referral is "not found", as everywhere else: no hint that it exists.
        shown = NotFound() if isinstance(error, NotAllowed) else error
        await _answer(
            update,
            context,
            explain(shown, context),
            choices([], extra=[(context._(OTHER_TIME), pack("days", *target, 0))]),
        )
        return
    buttons = [
        (context._(CONFIRM), pack("ok", held.id)),
        (context._(OTHER_TIME), pack("days", *target, 0)),
    ]
    await _answer(update, context, card, choices(buttons, columns=2))


async def _hold_somewhere(
    context: BotContext, me: Actor, target: tuple[str, int], device_id: int, starts: datetime
) -> tuple[Booking, str]:
    """Hold ``starts`` on the device pressed or, when it is full, on another one free then.

    The patient chose a time, not a device. Raises what hold_slot raises.
    """
    try:
        return await _hold_at(context, me, target, device_id, starts)
    except (SlotFull, SlotUnavailable):
        other = await _other_device(context, me, target, device_id, starts)
        if other is None:
            raise
        return await _hold_at(context, me, target, other, starts)


async def _hold_at(
    context: BotContext, me: Actor, target: tuple[str, int], device_id: int, starts: datetime
) -> tuple[Booking, str]:
    """Hold (or, for a booking, hold the new time of) ``starts`` on one device; the card."""
    async with context.services.uow() as uow:
        if target[0] == "ref":
            held = await hold_slot(uow, me, target[1], device_id, starts)
        else:
            held = await reschedule_hold(uow, me, target[1], device_id, starts)
        minutes = digits(str(context.services.policy.hold_minutes), context.lang)
        card = await booking_card(uow, context, held, context._(HELD).format(minutes=minutes))
        await uow.commit()
    return held, card


async def _other_device(
    context: BotContext, me: Actor, target: tuple[str, int], device_id: int, starts: datetime
) -> int | None:
    async with context.services.uow() as uow:
        exam_id = await _exam_of(uow, me, *target)
        times = await bookable_times(uow, exam_id, starts.date())
    free = (t.device_id for t in times if t.starts_at == starts and t.device_id != device_id)
    return next(free, None)


async def confirm_pressed(update: Update, context: BotContext) -> None:
    """Confirm a held time; a second tap changes nothing, an expired hold offers the days."""
    query = update.callback_query
    assert query is not None
    choice = unpack(query.data)
    me = _me(context)
    booking_id = choice.int_arg(0) if choice else None
    if me is None or booking_id is None:
        await query.answer()
        return
    try:
        async with context.services.uow() as uow:
            before = await get_booking(uow, me, booking_id)
            already = before.status == BookingStatus.CONFIRMED
            booking = await confirm_booking(uow, me, booking_id)
            card = await booking_card(uow, context, booking, "✅ " + context._(BOOKED))
            await uow.commit()
    except ClinicError as error:
        await query.answer()
        await _not_confirmed(update, context, me, booking_id, error)
        return
    if already:
        await query.answer(context._(ALREADY_BOOKED))
        return
    await query.answer()
    await _answer(update, context, card)
    if query.message is not None:
        await context.bot.send_message(
            query.message.chat.id, context._(ANYTHING_ELSE), reply_markup=main_menu(context.lang)
        )


async def _not_confirmed(
    update: Update, context: BotContext, me: Actor, booking_id: int, error: ClinicError
) -> None:
    again = []
    if not isinstance(error, NotFound):
        async with context.services.uow() as uow:
            booking = await get_booking(uow, me, booking_id)
        again = [(context._(OTHER_TIME), pack("days", "ref", booking.referral_id, 0))]
    await _answer(update, context, explain(error, context), choices([], extra=again))


Step = Callable[[Update, BotContext, Callback, tuple[str, int]], Awaitable[None]]


async def _pressed(update: Update, context: BotContext, then: Step) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    if _me(context) is None:
        await _answer(update, context, context._(NEED_LOGIN))
        return
    choice = unpack(query.data)
    target = _target(choice)
    if choice is None or target is None:
        return
    try:
        await then(update, context, choice, target)
    except ClinicError as error:
        await _answer(update, context, explain(error, context))


def booking_handlers() -> list[CallbackQueryHandler[BotContext, None]]:
    """The day, time, hold and confirm buttons."""
    return [
        CallbackQueryHandler(days_pressed, pattern=pattern("days")),
        CallbackQueryHandler(day_pressed, pattern=pattern("day")),
        CallbackQueryHandler(hold_pressed, pattern=pattern("hold")),
        CallbackQueryHandler(confirm_pressed, pattern=pattern("ok")),
    ]
