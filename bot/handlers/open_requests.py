"""My appointments: the requests with no time yet — choose one, or cancel the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import CallbackQueryHandler

from bot import routes
from bot.gate import PatientMode, patient_press
from bot.handlers.booking import NEED_LOGIN
from bot.handlers.common import explain
from bot.keyboards import choices
from bot.views import name
from bot.whose import label_of, labelled
from clinic.department_setup import department_setup
from clinic.errors import ClinicError, Conflict
from clinic.i18n import N_
from clinic.jalali import format_date, to_tehran
from clinic.models import Referral, ReferralStatus
from clinic.open_referrals import unbooked_referrals, withdraw_referral
from clinic.referrals import get_referral

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, View
    from clinic.actors import Actor
    from clinic.errors import ClinicError
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


def _status(context: BotContext, referral: Referral) -> str:
    waiting = referral.status == ReferralStatus.SUBMITTED
    return context._(WAITING_REVIEW if waiting else NO_TIME)


async def request_buttons(
    uow: UnitOfWork, context: BotContext, me: Actor, patient_id: int
) -> list[Button]:
    """One list button per open request of the patient without a time (they count towards
    the caps)."""
    items = []
    for referral in await unbooked_referrals(uow, me, patient_id):
        exam = await _exam_name(uow, context, referral)
        items.append((f"📝 {exam} · {_status(context, referral)}", routes.REQUEST(referral.id)))
    return items


async def _exam_name(uow: UnitOfWork, context: BotContext, referral: Referral) -> str:
    return name((await department_setup(uow)).exam(referral.exam_id), context.lang)


def _to_list(context: BotContext, patient_id: int | None = None) -> tuple[str, str]:
    if patient_id is None or patient_id == context.visitor.patient_id:
        return context._(TO_LIST), routes.APPOINTMENTS()
    return context._(TO_LIST), routes.APPOINTMENTS(patient_id)


def _failed(context: BotContext, error: ClinicError) -> View:
    """The reason, and back to the list (someone else's request is simply not found)."""
    return explain(error, context), choices([], extra=[_to_list(context)])


# The buttons on one of the patient's own requests (the referral's id).
MINE = PatientMode(failed=_failed, unregistered=NEED_LOGIN)


async def _card(p: Press) -> View:
    """A request's card: what it is for, and what can be done with it."""
    context, me, referral_id = p.context, p.actor, p.args.id(0)
    async with context.services.uow() as uow:
        referral = await get_referral(uow, me, referral_id)
        if referral not in await unbooked_referrals(uow, me, referral.patient_id):
            raise Conflict()  # an old button: since booked, done or cancelled
        exam = await _exam_name(uow, context, referral)
        line = await label_of(uow, context, referral.patient_id)
    day = format_date(to_tehran(referral.created_at).date(), context.lang)
    text = context._(CARD).format(exam=exam, status=_status(context, referral), date=day)
    text = labelled(text, line)
    back = _to_list(context, referral.patient_id)
    buttons = [(context._(CANCEL_REQUEST), routes.REQUEST_CANCEL(referral.id)), back]
    if referral.status == ReferralStatus.APPROVED:
        buttons.insert(0, (context._(CHOOSE_TIME), routes.DAYS("ref", referral.id, 0)))
    return text, choices([], extra=buttons)


async def _ask(p: Press) -> View:
    """Ask before cancelling the request."""
    context, me, referral_id = p.context, p.actor, p.args.id(0)
    async with context.services.uow() as uow:
        referral = await get_referral(uow, me, referral_id)
        exam = await _exam_name(uow, context, referral)
        line = await label_of(uow, context, referral.patient_id)
    buttons = [
        (context._(YES_CANCEL), routes.REQUEST_CANCEL_CONFIRMED(referral_id)),
        (context._(NO_KEEP), routes.REQUEST(referral_id)),
    ]
    return labelled(context._(SURE).format(exam=exam), line), choices(buttons, columns=2)


async def _withdraw(p: Press) -> View:
    """Cancel the request."""
    context, me, referral_id = p.context, p.actor, p.args.id(0)
    async with context.services.uow() as uow:
        referral = await withdraw_referral(uow, me, referral_id)
        exam = await _exam_name(uow, context, referral)
        line = await label_of(uow, context, referral.patient_id)
        await uow.commit()
    text = labelled(context._(CANCELLED).format(exam=exam), line)
    return text, choices([], extra=[_to_list(context, referral.patient_id)])


def request_handlers() -> list[CallbackQueryHandler[BotContext, None]]:
    """A request's card, the question before cancelling it, and cancelling it."""
    return [
        CallbackQueryHandler(patient_press(MINE, route, step), pattern=route.pattern)
        for route, step in (
            (routes.REQUEST, _card),
            (routes.REQUEST_CANCEL, _ask),
            (routes.REQUEST_CANCEL_CONFIRMED, _withdraw),
        )
    ]
