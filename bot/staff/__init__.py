"""Staff mode: reception, admin, reporting and broadcaster, by the roles read at each update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import routes
from bot.gate import Step, TypedStep, cancel_input, press, typed_handler
from bot.keyboards import all_menu_labels
from bot.staff import (
    admin,
    broadcast,
    daylist,
    desk,
    desk_times,
    events,
    patient_data,
    reception,
    reporting,
    results_desk,
    setup_view,
    told,
    walk_ins,
)
from bot.staff.common import STAFF, holding
from bot.staff.menu import open_menu
from clinic.models import Role

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.routes import Route

RECEPTION: dict[Route, Step] = {
    routes.REFERRALS: reception.referrals,
    routes.REFERRAL: reception.referral,
    routes.REFERRAL_APPROVE: reception.approve,
    routes.REFERRAL_REJECT: reception.reject_reasons,
    routes.REFERRAL_REJECT_LISTED: reception.reject_listed,
    routes.REFERRAL_REJECT_TYPED: reception.reject_typed_ask,
    routes.DAY_DEVICES: daylist.devices,
    routes.DAY_LIST: daylist.day,
    routes.STAFF_BOOKING: daylist.booking,
    routes.ADMIT: daylist.admit,
    routes.ADMIT_ACCESSION: daylist.admit_ask,
    routes.NO_SHOW: daylist.no_show,
    routes.STAFF_CANCEL: daylist.cancel_ask,
    routes.STAFF_CANCEL_CONFIRMED: daylist.cancel,
    routes.FIND: daylist.find_ask,
    routes.EVENTS: events.overview,
    routes.EVENT: events.event,
    routes.EVENT_LINK: events.link_ask,
    routes.EVENT_DISMISS: events.dismiss,
    routes.REFUSED: events.refused,
    routes.REFUSED_ONE: events.refused_one,
    routes.REFUSED_REVIEWED: events.reviewed,
    routes.OUT_FAILED: told.failed,
    routes.OUT_FAILED_ONE: told.failed_one,
    routes.OUT_RETRY: told.retry,
    routes.OUT_SKIP: told.skip,
    routes.DESK_BOOK: desk.desk_ask,
    routes.WALK_IN: desk.walk_in_ask,
    routes.DESK_LIFT: desk.lift,
    routes.DESK_MODALITY: desk.modality,
    routes.DESK_EXAM: desk.exam,
    routes.DESK_INSURER: desk.insurer,
    routes.DESK_PAPER: desk.paper,
    routes.DESK_ANSWER: desk.answer,
    routes.DESK_CHANNEL: desk_times.channel,
    routes.DESK_FIRST: desk_times.first_free,
    routes.DESK_DAYS: desk_times.days,
    routes.DESK_DAY: desk_times.day,
    routes.DESK_AT: desk_times.at,
    routes.QUEUE_DEVICES: walk_ins.devices,
    routes.QUEUE: walk_ins.device_queue,
    routes.PICKUP: results_desk.pickup_ask,
    routes.HANDOVER_PATIENT: results_desk.to_patient,
    routes.HANDOVER_PROXY: results_desk.proxy_ask,
}
ADMIN: dict[Route, Step] = {
    routes.CLOSURE: admin.closure_start,
    routes.CLOSURE_DEVICE: admin.closure_device,
    routes.CLOSURE_SITE: admin.closure_site,
    routes.CLOSURE_CONFIRM: admin.closure_confirm,
    routes.CLOSURE_DROP: admin.closure_drop,
    routes.REOPEN: admin.reopen_start,
    routes.REOPEN_CLOSURE: admin.reopen_closure,
    routes.OPEN_DAY: admin.open_day_ask,
    routes.ROLES: admin.roles_start,
    routes.ROLES_CHOSEN: admin.roles_chosen,
    routes.HOUSES: admin.houses,
    routes.HOUSE: admin.house_chosen,
    routes.SETUP: setup_view.devices,
    routes.SETUP_DEVICE: setup_view.device,
    routes.PATIENT_DATA: patient_data.ask_code,
    routes.PATIENT_EXPORT: patient_data.export,
    routes.PATIENT_ERASE: patient_data.erase_ask,
    routes.PATIENT_ERASE_OK: patient_data.erase,
}
REPORTING: dict[Route, Step] = {
    routes.REPORT_FINAL: reporting.final_ask,
    routes.REPORT_CORRECTED: reporting.corrected_ask,
    routes.REPORT_SITE: reporting.site_chosen,
}
BROADCASTER: dict[Route, Step] = {
    routes.BROADCAST: broadcast.start,
    routes.BROADCAST_BY_DEVICE: broadcast.by_device,
    routes.BROADCAST_FUTURE: broadcast.future,
    routes.BROADCAST_WORKERS: broadcast.workers,
    routes.BROADCAST_DEVICE: broadcast.device_chosen,
    routes.BROADCAST_SEND: broadcast.send,
    routes.BROADCAST_PROGRESS: broadcast.refresh,
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
    "desk_patient": (Role.RECEPTION, desk.desk_patient),
    "walk_in_patient": (Role.RECEPTION, desk.walk_in_patient),
    "desk_tracking": (Role.RECEPTION, desk.tracking_typed),
    "pickup": (Role.RECEPTION, results_desk.pickup_typed),
    "proxy_note": (Role.RECEPTION, results_desk.proxy_typed),
    "close_days": (Role.ADMIN, admin.closure_days),
    "close_why": (Role.ADMIN, admin.closure_reason),
    "open_day": (Role.ADMIN, admin.open_day),
    "staff_name": (Role.ADMIN, admin.staff_named),
    "worker": (Role.ADMIN, admin.worker_typed),
    "patient_data": (Role.ADMIN, patient_data.typed),
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
        CallbackQueryHandler(open_menu, pattern=routes.STAFF_MENU.pattern),
        CommandHandler("cancel", cancel_input(STAFF), filters=filters.ChatType.PRIVATE),
    ]
    for role, steps in BUTTONS:
        handlers += [
            CallbackQueryHandler(press(STAFF, holding(role), route, s), pattern=route.pattern)
            for route, s in steps.items()
        ]
    # Main-menu labels are left alone: a conversation handing one over must not get it back.
    text = filters.TEXT & ~filters.COMMAND & ~filters.Text(all_menu_labels())
    typed = {kind: (holding(role), step) for kind, (role, step) in TYPED.items()}
    handlers.append(MessageHandler(text, typed_handler(STAFF, typed)))
    return handlers
