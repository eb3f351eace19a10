"""The patient's day, time, hold and confirm buttons; the steps are in bot.booking_steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InputFile
from telegram.ext import CallbackQueryHandler

from bot import booking_steps as steps
from bot import routes
from bot.booking_steps import BACK as BACK
from bot.booking_steps import CHOOSE_DAY as CHOOSE_DAY
from bot.booking_steps import CHOOSE_TIME as CHOOSE_TIME
from bot.booking_steps import CONFIRM as CONFIRM
from bot.booking_steps import EARLIER_TIMES as EARLIER_TIMES
from bot.booking_steps import LATER_TIMES as LATER_TIMES
from bot.booking_steps import MORE as MORE
from bot.booking_steps import OTHER_TIME as OTHER_TIME
from bot.booking_steps import Booker, Target, View
from bot.gate import PatientMode, Press, patient, patient_press
from bot.handlers.common import explain, show
from bot.keyboards import choices, main_menu
from bot.routes import PATIENT_STEPS
from bot.whose import label_of
from clinic.booking import get_booking
from clinic.calendar_file import CALENDAR_CAPTION, booking_calendar
from clinic.errors import ClinicError, NotAllowed, NotFound, Refusal
from clinic.i18n import N_

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup, Update

    from bot.context import BotContext
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

HELD = N_("We are keeping this time for you for {minutes} minutes. Please check and confirm.")
BOOKED = N_("Your appointment is booked. We will remind you before it.")
ALREADY_BOOKED = N_("This appointment is already booked.")
NEED_LOGIN = N_("Please send /start first.")
TO_APPOINTMENTS = N_("‹ My appointments")
ANYTHING_ELSE = N_("Is there anything else I can do for you?")
CALENDAR = CALENDAR_CAPTION


class _Patient(Booker):
    """The patient booking for themself: the plain codes, no way out but another time."""

    routes, held, booked = PATIENT_STEPS, HELD, BOOKED

    async def whose(self, uow: UnitOfWork, patient_id: int) -> str | None:
        """For a family member: whose the days and the cards are."""
        return await label_of(uow, self.context, patient_id)

    def refused(self, target: Target, error: ClinicError) -> View:
        """The reason, and the days again."""
        # Someone else's referral is "not found", as everywhere else: no hint that it exists.
        shown = NotFound() if isinstance(error, NotAllowed) else error
        other = [(self.context._(OTHER_TIME), routes.DAYS(*target, 0))]
        if isinstance(error, Refusal):  # another time would be refused too: see what they hold
            other = [(self.context._(TO_APPOINTMENTS), routes.APPOINTMENTS())]
        return explain(shown, self.context), choices([], extra=other)


def _failed(context: BotContext, error: ClinicError) -> View:
    """The reason alone (the pressed message's buttons are gone with it)."""
    return explain(error, context), None


# The patient's day, time and hold buttons (a referral or a booking to move first).
BOOKING = PatientMode(failed=_failed, unregistered=NEED_LOGIN)


async def _answer(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text, or send a new one if it cannot be edited."""
    await show(update, context, (text, markup))


async def send_days(update: Update, context: BotContext, target: str, target_id: int) -> None:
    """List the bookable days for a referral (``ref``) or a booking to move (``bk``).

    Raises NotFound for a referral or booking that is not this patient's.
    """
    me = patient(context)
    assert me is not None
    text, markup = await steps.days_view(_Patient(context, me), (target, target_id))
    if update.callback_query is not None:
        await _answer(update, context, text, markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def _days(p: Press) -> View:
    """Show a page of days."""
    return await steps.days(_Patient(p.context, p.actor), p.args)


async def _day(p: Press) -> View:
    """Show the free times of the chosen day."""
    return await steps.day(_Patient(p.context, p.actor), p.args)


async def _hold(p: Press) -> View:
    """Hold the chosen time and show the confirmation card."""
    return await steps.hold(_Patient(p.context, p.actor), p.args)


# By name: the notifier's notice buttons reach these (tests/contract/test_notice_buttons.py).
days_pressed = patient_press(BOOKING, routes.DAYS, _days)
day_pressed = patient_press(BOOKING, routes.DAY, _day)
hold_pressed = patient_press(BOOKING, routes.HOLD, _hold)


async def confirm_pressed(update: Update, context: BotContext) -> None:
    """Confirm a held time; a second tap changes nothing, an expired hold offers the days."""
    query = update.callback_query
    assert query is not None
    args, me = routes.CONFIRM.read(query.data), patient(context)
    if me is None or args is None:
        await query.answer()
        return
    booking_id = args.id(0)
    try:
        done = await steps.confirm(_Patient(context, me), booking_id)
    except ClinicError as error:
        await query.answer()
        await _not_confirmed(update, context, me, booking_id, error)
        return
    if done is None:
        await query.answer(context._(ALREADY_BOOKED))
        return
    await query.answer()
    await _answer(update, context, done[1])
    if query.message is not None:
        await send_calendar(context, query.message.chat.id, me, booking_id)
        await context.bot.send_message(
            query.message.chat.id, context._(ANYTHING_ELSE), reply_markup=main_menu(context.lang)
        )


async def send_calendar(context: BotContext, chat_id: int, me: Actor, booking_id: int) -> None:
    """Send the booking as an ``.ics`` file (a move's file updates the event the last one made)."""
    async with context.services.uow().reading() as uow:
        ics = await booking_calendar(uow, me, booking_id, context.lang)
    document = InputFile(ics.data, filename=ics.file_name)
    document.mimetype = ics.mime_type  # not left to the host's mime.types
    await context.bot.send_document(chat_id, document, caption=context._(CALENDAR))


async def _not_confirmed(
    update: Update, context: BotContext, me: Actor, booking_id: int, error: ClinicError
) -> None:
    again = []
    if not isinstance(error, NotFound):
        async with context.services.uow() as uow:
            booking = await get_booking(uow, me, booking_id)
        again = [(context._(OTHER_TIME), routes.DAYS("ref", booking.referral_id, 0))]
    await _answer(update, context, explain(error, context), choices([], extra=again))


def booking_handlers() -> list[CallbackQueryHandler[BotContext, None]]:
    """The day, time, hold and confirm buttons."""
    return [
        CallbackQueryHandler(days_pressed, pattern=routes.DAYS.pattern),
        CallbackQueryHandler(day_pressed, pattern=routes.DAY.pattern),
        CallbackQueryHandler(hold_pressed, pattern=routes.HOLD.pattern),
        CallbackQueryHandler(confirm_pressed, pattern=routes.CONFIRM.pattern),
    ]
