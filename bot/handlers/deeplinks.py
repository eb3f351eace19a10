"""``/start <payload>`` deep links that open one step: booking a referral, an offer, a result."""

from __future__ import annotations

import logging
import re

from telegram import Update

from bot.context import BotContext
from bot.handlers.booking import send_days
from clinic.errors import ClinicError

log = logging.getLogger(__name__)
PAYLOAD = re.compile(r"(ref|bk|offer|res)(\d{0,12})", re.ASCII)


async def open_payload(update: Update, context: BotContext, payload: str) -> None:
    """Open the step a deep link names; anything unknown or not this patient's is ignored."""
    match = PAYLOAD.fullmatch(payload)
    if match is None or context.visitor.patient_id is None:
        return
    kind, number = match.group(1), match.group(2)
    try:
        if kind == "ref" and number:
            await send_days(update, context, "ref", int(number))
    except ClinicError:
        log.info("deep link %s not opened for this user", kind)
