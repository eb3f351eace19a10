"""My appointments: the requests with no time yet — choose one, or cancel the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import routes
from bot.callbacks import MAX_ID, unpack
from bot.context import BotContext
from bot.handlers.booking import NEED_LOGIN
from bot.handlers.common import explain, show
from bot.keyboards import choices
from bot.views import name
from clinic.actors import Actor
from clinic.department_setup import department_setup
from clinic.errors import ClinicError, Conflict
from clinic.i18n import N_
from clinic.jalali import format_date, to_tehran
from clinic.models import Referral, ReferralStatus
from clinic.open_referrals import unbooked_referrals, withdraw_referral
from clinic.referrals import get_referral

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

WAITING_REVIEW = N_("waiting for review")
NO_TIME = N_("no time chosen yet")
CARD = N_(
    "Your request for {exam} ({status}), sent on {date}.\n\n"
    "While it is open it counts among the requests you may have at once. If you no longer "
    "need it, you can cancel it."
)
CHOOSE_TIME = N_("📅 Choose a time")
CANCEL_REQUEST = N_("❌ Cancel this request")
SURE = N_(
    "Cancel your request for {exam}? To book this exam later, you would send the referral again."
)
YES_CANCEL, NO_KEEP = N_("Yes, cancel the request"), N_("No, keep it")
CANCELLED = N_("Your request for {exam} has been cancelled. You can send a new one at any time.")
TO_LIST = N_("‹ My appointments")

Button = tuple[str, str]
View = tuple[str, InlineKeyboardMarkup | None]
Step = Callable[[BotContext, Actor, int], Awaitable[View]]


def _status(context: BotContext, referral: Referral) -> str:
    waiting = referral.status == ReferralStatus.SUBMITTED
    return context._(WAITING_REVIEW if waiting else NO_TIME)


async def request_buttons(uow: UnitOfWork, context: BotContext, me: Actor) -> list[Button]:
    """One list button per open request without a time (they count towards the caps)."""
    assert me.id is not None
    items = []
    for referral in await unbooked_referrals(uow, me, me.id):
        exam = await _exam_name(uow, context, referral)
        items.append((f"📝 {exam} · {_status(context, referral)}", routes.REQUEST(referral.id)))
    return items


async def _exam_name(uow: UnitOfWork, context: BotContext, referral: Referral) -> str:
    return name((await department_setup(uow)).exam(referral.exam_id), context.lang)


def _to_list(context: BotContext) -> tuple[str, str]:
    return context._(TO_LIST), routes.APPOINTMENTS()


async def _card(context: BotContext, me: Actor, referral_id: int) -> View:
    async with context.services.uow() as uow:
        referral = await get_referral(uow, me, referral_id)
        assert me.id is not None
        if referral not in await unbooked_referrals(uow, me, me.id):
            raise Conflict()  # an old button: since booked, done or cancelled
        exam = await _exam_name(uow, context, referral)
    day = format_date(to_tehran(referral.created_at).date(), context.lang)
    text = context._(CARD).format(exam=exam, status=_status(context, referral), date=day)
    buttons = [(context._(CANCEL_REQUEST), routes.REQUEST_CANCEL(referral.id)), _to_list(context)]
    if referral.status == ReferralStatus.APPROVED:
        buttons.insert(0, (context._(CHOOSE_TIME), routes.DAYS("ref", referral.id, 0)))
    return text, choices([], extra=buttons)


async def _ask(context: BotContext, me: Actor, referral_id: int) -> View:
    async with context.services.uow() as uow:
        exam = await _exam_name(uow, context, await get_referral(uow, me, referral_id))
    buttons = [
        (context._(YES_CANCEL), routes.REQUEST_CANCEL_CONFIRMED(referral_id)),
        (context._(NO_KEEP), routes.REQUEST(referral_id)),
    ]
    return context._(SURE).format(exam=exam), choices(buttons, columns=2)


async def _withdraw(context: BotContext, me: Actor, referral_id: int) -> View:
    async with context.services.uow() as uow:
        referral = await withdraw_referral(uow, me, referral_id)
        exam = await _exam_name(uow, context, referral)
        await uow.commit()
    return context._(CANCELLED).format(exam=exam), choices([], extra=[_to_list(context)])


def _pressed(step: Step) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """Answer the press, check the login and the id, run ``step``, explain clinic errors."""

    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        choice, pid = unpack(query.data), context.visitor.patient_id
        referral_id = choice.int_arg(0) if choice else None
        if pid is None:
            await show(update, context, (context._(NEED_LOGIN), None))
            return
        if referral_id is None or not 0 < referral_id <= MAX_ID:
            return
        try:
            view = await step(context, Actor.patient(pid), referral_id)
        except ClinicError as error:
            view = explain(error, context), choices([], extra=[_to_list(context)])
        await show(update, context, view)

    return handler


def request_handlers() -> list[CallbackQueryHandler[BotContext, None]]:
    """A request's card, the question before cancelling it, and cancelling it."""
    return [
        CallbackQueryHandler(_pressed(_card), pattern=routes.REQUEST.pattern),
        CallbackQueryHandler(_pressed(_ask), pattern=routes.REQUEST_CANCEL.pattern),
        CallbackQueryHandler(_pressed(_withdraw), pattern=routes.REQUEST_CANCEL_CONFIRMED.pattern),
    ]
