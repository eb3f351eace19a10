"""My appointments: list and details; cancel, reschedule, wait for an earlier place."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler

from bot import routes
from bot.gate import PatientMode, Press, Step, View, patient, patient_press
from bot.handlers import open_requests
from bot.handlers.booking import NEED_LOGIN, send_days
from bot.handlers.common import explain
from bot.handlers.preparation import booking_preparation
from bot.handlers.queue_place import queue_buttons, queue_pressed
from bot.keyboards import MY_APPOINTMENTS, choices, main_menu, menu_filter
from bot.views import STATUS, booking_card, digits, name, when
from bot.whose import chosen, label_of, labelled, members, whom
from clinic.booking import bookings_for_patient, cancel_booking, get_booking
from clinic.department_setup import ExamView, department_setup
from clinic.errors import ClinicError, Conflict, NotFound, TooLateToCancel
from clinic.i18n import N_
from clinic.jalali import format_day_short, format_time, to_tehran
from clinic.models import Booking, BookingStatus
from clinic.queue_position import queue_position, waiting_today
from clinic.waitlist import join_waitlist

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup, Update

    from bot.context import BotContext
    from clinic.actors import Actor

LIST = N_("Your appointments. Choose one to see it, cancel it or move it:")
WHOSE = N_("Whose appointments would you like to see?")
NONE_YET = N_(
    "You have no upcoming appointments. To book one, choose “🩻 New imaging request” below."
)
DETAILS = N_("Your appointment ({status})")
CANCEL, MOVE = N_("❌ Cancel"), N_("🔁 Reschedule")
EARLIER = N_("⏩ Earlier date (waiting list)")
RESEND = N_("📋 Send the preparation again")
TO_LIST = N_("‹ My appointments")
SURE = N_("Are you sure you want to cancel your appointment on {date} at {time}?")
YES_CANCEL, NO_KEEP = N_("Yes, cancel it"), N_("No, keep it")
CANCELLED = N_("Your appointment on {date} at {time} has been cancelled.")
STILL_OPEN = N_(
    "Your request for this exam stays open: you can choose another time for it, or cancel the "
    "request too if you no longer need the exam."
)
ASK_BEFORE = N_(
    "If a place becomes free earlier, we will offer it to you. By when would you like it?"
)
WITHIN = (
    (3, N_("Within 3 days (by {date})")),
    (7, N_("Within a week (by {date})")),
    (14, N_("Within two weeks (by {date})")),
)
ANY_EARLIER = N_("Any earlier day (by {date})")
NO_EARLIER = N_("Your appointment is very soon; there is no earlier day to wait for.")
WAITING = N_(
    "You are on the waiting list. If a place becomes free by {date}, we will send you a "
    "message and keep it for you for {minutes} minutes."
)
IN_QUEUE = N_("🎫 Ticket {number} — {n} people ahead of you")
NEXT_IN_QUEUE = N_("🎫 Ticket {number} — you are next")
MAX_LISTED = 20


def to_list(context: BotContext, patient_id: int | None = None) -> tuple[str, str]:
    """Back to the list of appointments: the holder's, or the family member's they are."""
    if patient_id is None or patient_id == context.visitor.patient_id:
        return context._(TO_LIST), routes.APPOINTMENTS()
    return context._(TO_LIST), routes.APPOINTMENTS(patient_id)


def _back(context: BotContext, patient_id: int | None = None) -> InlineKeyboardMarkup:
    return choices([], extra=[to_list(context, patient_id)])


def _failed(context: BotContext, error: ClinicError) -> View:
    """The reason, and back to the list (someone else's booking is simply not found)."""
    return explain(error, context), _back(context)


# The list and the buttons on one of the patient's own bookings.
MINE = PatientMode(failed=_failed, unregistered=NEED_LOGIN)


async def _list(context: BotContext, me: Actor, patient_id: int) -> View:
    """The patient's upcoming appointments and open requests, labelled when a family
    member's."""
    async with context.services.uow() as uow:
        bookings = (await bookings_for_patient(uow, me, patient_id))[:MAX_LISTED]
        exams = (await department_setup(uow)).exams
        requests = await open_requests.request_buttons(uow, context, me, patient_id)
        line = await label_of(uow, context, patient_id)
    if not bookings and not requests:
        return labelled(context._(NONE_YET), line), None
    items = [
        (_label(b, exams[b.exam_id], context.lang), routes.APPOINTMENT(b.id)) for b in bookings
    ]
    return labelled(context._(LIST), line), choices([*items, *requests])


def _label(booking: Booking, exam: ExamView, lang: str) -> str:
    day = format_day_short(to_tehran(booking.starts_at).date(), lang)
    return f"{day} {format_time(booking.starts_at, lang)} · {name(exam, lang)}"


async def my_appointments(update: Update, context: BotContext) -> None:
    """List the upcoming appointments, one button each (none: a kind word and the menu);
    first whose, when the account books for family members too."""
    assert update.effective_message is not None
    me = patient(context)
    if me is None or me.id is None:
        await update.effective_message.reply_text(context._(NEED_LOGIN))
        return
    family = await members(context)
    if family:
        choice = whom(context, family, routes.APPOINTMENTS)
        await update.effective_message.reply_text(context._(WHOSE), reply_markup=choice)
        return
    text, markup = await _list(context, me, me.id)
    await update.effective_message.reply_text(text, reply_markup=markup or main_menu(context.lang))


async def _listed(p: Press) -> View:
    """The list: the holder's, or a family member's (one the account acts for)."""
    pid = chosen(p.context, p.args.id_or_none(0))
    if pid is None:
        raise NotFound()
    return await _list(p.context, p.actor, pid)


def _actions(context: BotContext, booking: Booking) -> InlineKeyboardMarkup:
    _, bid = context._, booking.id
    extra = [(_(RESEND), routes.PREPARATION_AGAIN(bid)), to_list(context, booking.patient_id)]
    extra = [*queue_buttons(context, booking), *extra]
    if booking.status != BookingStatus.CONFIRMED:
        return choices([], extra=extra)
    items = [(_(CANCEL), routes.CANCEL(bid)), (_(MOVE), routes.MOVE(bid))]
    return choices(items, columns=2, extra=[(_(EARLIER), routes.WAITLIST(bid)), *extra])


async def details_view(context: BotContext, me: Actor, booking_id: int) -> View:
    """The booking's card with its status and actions. Raises NotFound for anyone else's."""
    async with context.services.uow() as uow:
        booking = await get_booking(uow, me, booking_id)
        status = context._(STATUS.get(booking.status, booking.status))
        card = await booking_card(uow, context, booking, context._(DETAILS).format(status=status))
        waiting = booking.ticket is not None and waiting_today(booking, uow.clock.now())
        # The same count as the queue button's: appointments of earlier slots are ahead too.
        ahead = (await queue_position(uow, me, booking.id)).ahead if waiting else None
        line = await label_of(uow, context, booking.patient_id)
    if ahead is not None and booking.ticket is not None:
        place = context._(IN_QUEUE if ahead else NEXT_IN_QUEUE).format(
            number=digits(str(booking.ticket), context.lang), n=digits(str(ahead), context.lang)
        )
        card = f"{place}\n\n{card}"
    return labelled(card, line), _actions(context, booking)


async def _details(p: Press) -> View:
    """One appointment: the card with its status, and what can be done with it."""
    return await details_view(p.context, p.actor, p.args.id(0))


async def _booking(p: Press, *, confirmed: bool = False) -> Booking:
    async with p.context.services.uow() as uow:
        booking = await get_booking(uow, p.actor, p.args.id(0))
    if confirmed and booking.status != BookingStatus.CONFIRMED:
        raise Conflict()  # a stale button on an appointment that has changed since
    return booking


async def _whose(context: BotContext, patient_id: int, text: str) -> str:
    """``text`` labelled with whose it is, when a family member's."""
    async with context.services.uow().reading() as uow:
        return labelled(text, await label_of(uow, context, patient_id))


async def _ask_cancel(p: Press) -> View:
    """Ask before cancelling."""
    booking, _ = await _booking(p), p.context._
    day, time = when(booking.starts_at, p.context.lang)
    buttons = [
        (_(YES_CANCEL), routes.CANCEL_CONFIRMED(booking.id)),
        (_(NO_KEEP), routes.APPOINTMENT(booking.id)),
    ]
    text = await _whose(p.context, booking.patient_id, _(SURE).format(date=day, time=time))
    return text, choices(buttons, columns=2)


async def _cancel(p: Press) -> View:
    """Cancel; within the notice period the rule is explained instead."""
    async with p.context.services.uow() as uow:
        booking = await cancel_booking(uow, p.actor, p.args.id(0))
        await uow.commit()
    day, time = when(booking.starts_at, p.context.lang)
    _, rid = p.context._, booking.referral_id
    buttons = [
        (_(open_requests.CHOOSE_TIME), routes.DAYS("ref", rid, 0)),
        (_(open_requests.CANCEL_REQUEST), routes.REQUEST_CANCEL(rid)),
        to_list(p.context, booking.patient_id),
    ]
    text = f"{_(CANCELLED).format(date=day, time=time)}\n\n{_(STILL_OPEN)}"
    return await _whose(p.context, booking.patient_id, text), choices([], extra=buttons)


async def _move(p: Press) -> None:
    """Reschedule with the usual day and time buttons; the old time is kept until confirmed."""
    booking, policy = await _booking(p, confirmed=True), p.context.services.policy
    notice = timedelta(hours=policy.patient_cancel_notice_hours)
    if booking.starts_at - p.context.services.clock.now() < notice:
        raise TooLateToCancel(hours=policy.patient_cancel_notice_hours)
    await send_days(p.update, p.context, "bk", booking.id)


def _wanted_dates(today: date, booked: date) -> list[tuple[date, str]]:
    options: dict[date, str] = {}
    for days, label in WITHIN:
        options.setdefault(today + timedelta(days=days), label)
    options.setdefault(booked - timedelta(days=1), ANY_EARLIER)
    return sorted((d, label) for d, label in options.items() if today < d < booked)


async def _ask_before(p: Press) -> View:
    """Offer a few wanted-before dates, each before the current appointment."""
    booking, lang, _ = await _booking(p, confirmed=True), p.context.lang, p.context._
    today = to_tehran(p.context.services.clock.now()).date()
    options = _wanted_dates(today, to_tehran(booking.starts_at).date())
    items = [
        (
            _(label).format(date=format_day_short(d, lang)),
            routes.WAITLIST_JOIN(booking.id, d),
        )
        for d, label in options
    ]
    back = [to_list(p.context, booking.patient_id)]
    return _(ASK_BEFORE if items else NO_EARLIER), choices(items, extra=back)


async def _join(p: Press) -> View | None:
    """Join the waiting list for the booking's referral, up to the chosen date."""
    wanted, booking = p.args.day(1), await _booking(p, confirmed=True)
    if wanted >= to_tehran(booking.starts_at).date():
        return None  # not an earlier date: no button offers it
    async with p.context.services.uow() as uow:
        await join_waitlist(uow, p.actor, booking.referral_id, wanted)
        await uow.commit()
    lang, minutes = p.context.lang, p.context.services.policy.waitlist_offer_minutes
    text = p.context._(WAITING).format(
        date=format_day_short(wanted, lang), minutes=digits(str(minutes), lang)
    )
    text = await _whose(p.context, booking.patient_id, text)
    return text, _back(p.context, booking.patient_id)


async def _resend(p: Press) -> None:
    """Send the booking's preparation again, each timed step at its clock time."""
    text = await booking_preparation(p.context, await _booking(p))
    assert p.update.effective_chat is not None
    await p.context.bot.send_message(p.update.effective_chat.id, text)


BUTTONS: dict[routes.Route, Step] = {
    routes.APPOINTMENTS: _listed,
    routes.APPOINTMENT: _details,
    routes.CANCEL: _ask_cancel,
    routes.CANCEL_CONFIRMED: _cancel,
    routes.MOVE: _move,
    routes.WAITLIST: _ask_before,
    routes.WAITLIST_JOIN: _join,
    routes.PREPARATION_AGAIN: _resend,
    routes.QUEUE_PLACE: queue_pressed,
}


def appointment_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The appointments menu button and every button on an appointment."""
    return [
        MessageHandler(menu_filter(MY_APPOINTMENTS), my_appointments),
        *(
            CallbackQueryHandler(patient_press(MINE, route, step), pattern=route.pattern)
            for route, step in BUTTONS.items()
        ),
        *open_requests.request_handlers(),
    ]
