"""Choosing a day and a time, holding it and confirming: stateless buttons that carry ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.callbacks import Callback, pack, pattern, unpack
from bot.context import BotContext
from bot.handlers.common import explain
from bot.keyboards import choices, main_menu, paged
from bot.views import booking_card, digits
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import confirm_booking, get_booking, hold_slot, reschedule_hold
from clinic.errors import N_, ClinicError, NotFound
from clinic.jalali import TEHRAN, format_day_short, format_time
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
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:
        if query.message is not None:
            await context.bot.send_message(query.message.chat.id, text, reply_markup=markup)


async def send_days(
    update: Update, context: BotContext, target: str, target_id: int, page: int = 0
) -> None:
    """List the bookable days for a referral (``ref``) or a booking to move (``bk``)."""
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
    await _reply(update, context, context._(CHOOSE_DAY), markup)


async def _reply(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    if update.callback_query is not None:
        await _answer(update, context, text, markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def _exam_of(uow: UnitOfWork, me: Actor, target: str, target_id: int) -> int:
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
    day = _parse_day(choice.args[2] if len(choice.args) > 2 else "")
    me = _me(context)
    assert me is not None
    async with context.services.uow() as uow:
        exam_id = await _exam_of(uow, me, *target)
        times = await bookable_times(uow, exam_id, day) if day else []
    if not times or day is None:
        await send_days(update, context, *target)
        return
    lang = context.lang
    items = [
        (
            format_time(t.starts_at, lang),
            pack("hold", *target, t.device_id, f"{t.starts_at.astimezone(TEHRAN):%Y%m%d%H%M}"),
        )
        for t in times
    ]
    back = [(context._(BACK), pack("days", *target, 0))]
    await _answer(
        update,
        context,
        context._(CHOOSE_TIME).format(day=format_day_short(day, lang)),
        choices(items, columns=4, extra=back),
    )


async def hold_pressed(update: Update, context: BotContext) -> None:
    """Hold the chosen time and show the confirmation card."""
    await _pressed(update, context, _hold)


async def _hold(
    update: Update, context: BotContext, choice: Callback, target: tuple[str, int]
) -> None:
    device_id = choice.int_arg(2)
    starts = _parse_moment(choice.args[3] if len(choice.args) > 3 else "")
    me = _me(context)
    assert me is not None
    if device_id is None or starts is None:
        await send_days(update, context, *target)
        return
    try:
        async with context.services.uow() as uow:
            if target[0] == "ref":
                held = await hold_slot(uow, me, target[1], device_id, starts)
            else:
                held = await reschedule_hold(uow, me, target[1], device_id, starts)
            minutes = digits(str(context.services.policy.hold_minutes), context.lang)
            card = await booking_card(uow, context, held, context._(HELD).format(minutes=minutes))
            await uow.commit()
    except ClinicError as error:
        await _answer(
            update,
            context,
            explain(error, context),
            choices([], extra=[(context._(OTHER_TIME), pack("days", *target, 0))]),
        )
        return
    buttons = [
        (context._(CONFIRM), pack("ok", held.id)),
        (context._(OTHER_TIME), pack("days", *target, 0)),
    ]
    await _answer(update, context, card, choices(buttons, columns=2))


async def confirm_pressed(update: Update, context: BotContext) -> None:
    """Confirm a held time; an expired hold says so and offers the days again."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    me = _me(context)
    booking_id = choice.int_arg(0) if choice else None
    if me is None or booking_id is None:
        return
    try:
        async with context.services.uow() as uow:
            booking = await confirm_booking(uow, me, booking_id)
            card = await booking_card(uow, context, booking, "✅ " + context._(BOOKED))
            await uow.commit()
    except ClinicError as error:
        again = []
        if not isinstance(error, NotFound):
            async with context.services.uow() as uow:
                booking = await get_booking(uow, me, booking_id)
            again = [(context._(OTHER_TIME), pack("days", "ref", booking.referral_id, 0))]
        await _answer(update, context, explain(error, context), choices([], extra=again))
        return
    await _answer(update, context, card)
    if query.message is not None:
        await context.bot.send_message(
            query.message.chat.id, context._(ANYTHING_ELSE), reply_markup=main_menu(context.lang)
        )


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


def _parse_day(text: str) -> date | None:
    if not (len(text) == 8 and text.isascii() and text.isdigit()):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _parse_moment(text: str) -> datetime | None:
    day = _parse_day(text[:8])
    if day is None or len(text) != 12 or not text[8:].isdigit():
        return None
    try:
        return datetime.combine(day, time(int(text[8:10]), int(text[10:])), tzinfo=TEHRAN)
    except ValueError:
        return None


def booking_handlers() -> list[CallbackQueryHandler[BotContext, None]]:
    """The day, time, hold and confirm buttons."""
    return [
        CallbackQueryHandler(days_pressed, pattern=pattern("days")),
        CallbackQueryHandler(day_pressed, pattern=pattern("day")),
        CallbackQueryHandler(hold_pressed, pattern=pattern("hold")),
        CallbackQueryHandler(confirm_pressed, pattern=pattern("ok")),
    ]
