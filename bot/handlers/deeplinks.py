"""``/start <payload>`` deep links that open one step: booking a referral, an offer, a result."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot import routes
from bot.callbacks import MAX_ID
from bot.gate import patient
from bot.handlers.appointments import details_view
from bot.handlers.booking import CONFIRM, send_days
from bot.handlers.common import show
from bot.handlers.results import my_results
from bot.keyboards import choices
from bot.views import booking_card, when
from bot.whose import label_of, labelled
from clinic.booking import get_booking
from clinic.errors import ClinicError
from clinic.i18n import N_
from clinic.models import BookingStatus

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.gate import View
    from clinic.actors import Actor

log = logging.getLogger(__name__)
PAYLOAD = re.compile(r"(ref|bk|offer|res)(\d{0,12})", re.ASCII)
OFFER = N_("An earlier place has become free for you. We keep it for you until {time} on {date}.")
OFFER_GONE = N_(
    "Sorry, this offer is no longer available: its time ran out or it was already used. "
    "Your current appointment has not changed."
)


async def open_payload(update: Update, context: BotContext, payload: str) -> None:
    """Open the step a deep link names; anything unknown or not this patient's is ignored."""
    match = PAYLOAD.fullmatch(payload)
    me = patient(context)  # acting for the family members of the account too
    if match is None or me is None:
        log.info("deep link ignored: %s", "unknown" if match is None else "not registered")
        return
    kind, number = match.group(1), int(match.group(2) or 0)
    try:
        if kind == "res":
            await my_results(update, context)
        elif not 0 < number <= MAX_ID:
            log.info("deep link %s without a valid id ignored", kind)
        elif kind == "ref":
            await send_days(update, context, "ref", number)
        elif kind == "bk":
            await show(update, context, await details_view(context, me, number))
        else:
            await open_offer(update, context, number)
    except ClinicError as error:
        log.info("deep link %s%s not opened for this user: %s", kind, number, error.code)


async def _offer(context: BotContext, me: Actor, booking_id: int) -> View | None:
    """The offer card with Confirm; None when the patient has already taken it."""
    async with context.services.uow() as uow:
        booking = await get_booking(uow, me, booking_id)
        offered = booking.waitlist_id is not None
        if offered and booking.status == BookingStatus.CONFIRMED:
            return None
        expires = booking.hold_expires_at
        live = offered and booking.status == BookingStatus.HELD
        if not live or expires is None or expires <= context.services.clock.now():
            return context._(OFFER_GONE), None
        day, time = when(expires, context.lang)
        title = context._(OFFER).format(time=time, date=day)
        card = await booking_card(uow, context, booking, title)
        card = labelled(card, await label_of(uow, context, booking.patient_id))
    return card, choices([(context._(CONFIRM), routes.CONFIRM(booking.id))])


async def open_offer(update: Update, context: BotContext, booking_id: int) -> None:
    """A waitlist offer: the card, its expiry and Confirm (a taken one: the appointment)."""
    me = patient(context)
    assert me is not None
    view = await _offer(context, me, booking_id)
    await show(update, context, view or await details_view(context, me, booking_id))
