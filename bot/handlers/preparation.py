"""Preparation instructions: each booking's steps at their clock times, or any exam's steps."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler

from bot import routes
from bot.gate import patient
from bot.handlers.common import explain
from bot.keyboards import PREPARATION, choices, menu_filter, paged
from bot.views import MODALITY_NAMES, NO_PREPARATION, digits, exam_with_preparation, name, when
from bot.whose import label_of, labelled
from clinic.booking import bookings_for_patient
from clinic.catalogue import exams_for_modality
from clinic.department_setup import ExamView, PrepView, department_setup
from clinic.errors import ClinicError
from clinic.i18n import N_
from clinic.jalali import format_day_short, format_time, to_tehran

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telegram import InlineKeyboardMarkup, Update

    from bot.context import BotContext
    from clinic.models import Booking

FOR_BOOKING = N_("Preparation for {exam}, on {date} at {time}:")
FOR_EXAM = N_("Preparation for {exam}:")
TIMED = N_("{ahead} (from {time} on {date}): {text}")
AHEAD = N_("{ahead}: {text}")
CHOOSE_KIND = N_("Which kind of imaging would you like the preparation instructions for?")
CHOOSE_EXAM = N_("Which exam?")
OTHER_EXAMS = N_("📋 Instructions for another exam")
ANOTHER = N_("Would you like the instructions for another exam?")
NO_EXAMS = N_("There are no exams of this kind to book through the bot right now.")
MORE, BACK = N_("More ›"), N_("‹ Back")
MAX_BOOKINGS = 5


def ahead(context: BotContext, hours: float) -> str:
    """``6 hours before`` or ``30 minutes before``, in the user's language and digits."""
    minutes = round(hours * 60)
    if minutes % 60:
        text = context.ngettext("{n} minute before", "{n} minutes before", minutes)
        return text.format(n=digits(str(minutes), context.lang))
    text = context.ngettext("{n} hour before", "{n} hours before", minutes // 60)
    return text.format(n=digits(str(minutes // 60), context.lang))


def step_lines(
    context: BotContext, steps: Sequence[PrepView], booking: Booking | None
) -> list[str]:
    """One bullet per step; timed steps say when, at the clock time when there is a booking."""
    return [_step_line(context, step, booking) for step in steps] or [context._(NO_PREPARATION)]


def _step_line(context: BotContext, step: PrepView, booking: Booking | None) -> str:
    text = step.text_fa if context.lang == "fa" else step.text_en
    if step.hours_before is None:
        return f"• {text}"
    before = ahead(context, step.hours_before)
    if booking is None:
        return "• " + context._(AHEAD).format(ahead=before, text=text)
    moment = to_tehran(booking.starts_at - timedelta(hours=step.hours_before))
    return "• " + context._(TIMED).format(
        ahead=before,
        time=format_time(moment, context.lang),
        date=format_day_short(moment.date(), context.lang),
        text=text,
    )


async def booking_preparation(context: BotContext, booking: Booking) -> str:
    """The booking's exam preparation with the clock time each timed step starts (labelled
    when a family member's)."""
    async with context.services.uow() as uow:
        exam = await exam_with_preparation(uow, booking.exam_id)
        line = await label_of(uow, context, booking.patient_id)
    day, clock = when(booking.starts_at, context.lang)
    title = context._(FOR_BOOKING).format(exam=name(exam, context.lang), date=day, time=clock)
    text = "\n".join([title, "", *step_lines(context, exam.preparation, booking)])
    return labelled(text, line)


def _exam_text(context: BotContext, exam: ExamView) -> str:
    title = context._(FOR_EXAM).format(exam=name(exam, context.lang))
    return "\n".join([title, "", *step_lines(context, exam.preparation, None)])


def _kinds(context: BotContext) -> InlineKeyboardMarkup:
    items = [
        (context._(label), routes.PREPARATION_KIND(code)) for code, label in MODALITY_NAMES.items()
    ]
    return choices(items, columns=2)


async def preparation_menu(update: Update, context: BotContext) -> None:
    """Each upcoming booking's preparation with its times (the family members' too, each
    labelled); then any exam's, by choice."""
    assert update.effective_message is not None
    me = patient(context)
    bookings: list[Booking] = []
    if me is not None:
        async with context.services.uow() as uow:
            for pid in context.visitor.patient_ids:
                bookings += await bookings_for_patient(uow, me, pid)
        bookings.sort(key=lambda b: b.starts_at)
    texts = [await booking_preparation(context, b) for b in bookings[:MAX_BOOKINGS]]
    for text in texts:
        await update.effective_message.reply_text(text)
    other = choices([], extra=[(context._(OTHER_EXAMS), routes.PREPARATION_KIND())])
    ask, markup = (ANOTHER, other) if texts else (CHOOSE_KIND, _kinds(context))
    await update.effective_message.reply_text(context._(ask), reply_markup=markup)


async def kind_pressed(update: Update, context: BotContext) -> None:
    """The kinds of imaging, or a page of one kind's exams."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args = routes.PREPARATION_KIND.read(query.data)
    modality = args.word_or_none(0) if args else None
    if args is None or modality not in MODALITY_NAMES:
        await query.edit_message_text(context._(CHOOSE_KIND), reply_markup=_kinds(context))
        return
    async with context.services.uow() as uow:
        exams = await exams_for_modality(uow, modality)
    items = [(name(e, context.lang), routes.PREPARATION_EXAM(e.id)) for e in exams]
    more, back = context._(MORE), context._(BACK)
    markup = paged(items, args.page(1), routes.PREPARATION_KIND, modality, more=more, back=back)
    text = context._(CHOOSE_EXAM if items else NO_EXAMS)
    await query.edit_message_text(text, reply_markup=markup)


async def exam_pressed(update: Update, context: BotContext) -> None:
    """One exam's preparation steps, with how long before the appointment each applies."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args = routes.PREPARATION_EXAM.read(query.data)
    try:
        async with context.services.uow() as uow:
            setup = await department_setup(uow)
            text = _exam_text(context, setup.active_exam(args.id(0) if args else 0))
    except ClinicError as error:
        text = explain(error, context)
    back = choices([], extra=[(context._(BACK), routes.PREPARATION_KIND())])
    await query.edit_message_text(text, reply_markup=back)


def preparation_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The preparation menu button and its kind and exam choices."""
    return [
        MessageHandler(menu_filter(PREPARATION), preparation_menu),
        CallbackQueryHandler(kind_pressed, pattern=routes.PREPARATION_KIND.pattern),
        CallbackQueryHandler(exam_pressed, pattern=routes.PREPARATION_EXAM.pattern),
    ]
