"""Staff mode: reception, admin, reporting and broadcaster, by the roles read at each update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import pattern
from bot.gate import Step, TypedStep, cancel_input, press, typed_handler
from bot.keyboards import all_menu_labels
from bot.staff import admin, broadcast, daylist, events, reception, reporting
from bot.staff.common import STAFF, holding
from bot.staff.menu import open_menu
from clinic.models import Role

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext

RECEPTION: dict[str, Step] = {
    "sref": reception.referrals,
    "srv": reception.referral,
    "srok": reception.approve,
    "srx": reception.reject_reasons,
    "srxr": reception.reject_listed,
    "srxt": reception.reject_typed_ask,
    "sday": daylist.devices,
    "sdl": daylist.day,
    "sbk": daylist.booking,
    "sci": daylist.admit,
    "sacc": daylist.admit_ask,
    "sns": daylist.no_show,
    "scx": daylist.cancel_ask,
    "scxok": daylist.cancel,
    "sfind": daylist.find_ask,
    "sev": events.overview,
    "sevd": events.event,
    "sevl": events.link_ask,
    "sevx": events.dismiss,
    "srj": events.refused,
    "srjd": events.refused_one,
    "srjok": events.reviewed,
}
ADMIN: dict[str, Step] = {
    "scl": admin.closure_start,
    "scld": admin.closure_device,
    "sclok": admin.closure_confirm,
    "sclno": admin.closure_drop,
    "sreo": admin.reopen_start,
    "scc": admin.reopen_closure,
    "sdo": admin.open_day_ask,
    "sadd": admin.roles_start,
    "sadn": admin.roles_chosen,
    "sahw": admin.houses,
    "sahh": admin.house_chosen,
}
REPORTING: dict[str, Step] = {"srpf": reporting.final_ask, "srpc": reporting.corrected_ask}
BROADCASTER: dict[str, Step] = {
    "sbc": broadcast.start,
    "sbad": broadcast.by_device,
    "sbaf": broadcast.future,
    "sbaw": broadcast.workers,
    "sbdv": broadcast.device_chosen,
    "sbs": broadcast.send,
    "sbp": broadcast.refresh,
}
BUTTONS = (
    (Role.RECEPTION, RECEPTION),
    (Role.ADMIN, ADMIN),
    (Role.REPORTING, REPORTING),
    (Role.BROADCASTER, BROADCASTER),
)
TYPED: dict[str, tuple[Role, TypedStep]] = {
    "reject": (Role.RECEPTION, reception.reject_typed),
    "accession": (Role.RECEPTION, daylist.admit_typed),
    "find": (Role.RECEPTION, daylist.find_typed),
    "event_booking": (Role.RECEPTION, events.link_typed),
    "close_days": (Role.ADMIN, admin.closure_days),
    "close_why": (Role.ADMIN, admin.closure_reason),
    "open_day": (Role.ADMIN, admin.open_day),
    "staff_name": (Role.ADMIN, admin.staff_named),
    "worker": (Role.ADMIN, admin.worker_typed),
    "report": (Role.REPORTING, reporting.accession_typed),
    "bc_days": (Role.BROADCASTER, broadcast.days_typed),
    "bc_text": (Role.BROADCASTER, broadcast.text_typed),
}


def staff_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The staff commands and buttons (registered before the patient fallbacks).

    Each one re-checks the role it needs on the roles read for this update; without it the
    update goes on to the patient handlers, as if staff mode did not exist.
    """
    handlers: list[BaseHandler[Update, BotContext, Any]] = [
        CommandHandler("staff", open_menu, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(open_menu, pattern=pattern("smenu")),
        CommandHandler("cancel", cancel_input(STAFF), filters=filters.ChatType.PRIVATE),
    ]
    for role, steps in BUTTONS:
        handlers += [
            CallbackQueryHandler(press(STAFF, holding(role), s), pattern=pattern(a))
            for a, s in steps.items()
        ]
    # Main-menu labels are left alone: a conversation handing one over must not get it back.
    text = filters.TEXT & ~filters.COMMAND & ~filters.Text(all_menu_labels())
    typed = {kind: (holding(role), step) for kind, (role, step) in TYPED.items()}
    handlers.append(MessageHandler(text, typed_handler(STAFF, typed)))
    return handlers
