"""Health-house worker (بهورز) mode: acting for patients who have no smartphone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import routes
from bot.gate import Step, TypedStep, cancel_input, press, typed_handler
from bot.health_worker import book, patients, register, request
from bot.health_worker.common import HEALTH_WORKER, health_worker
from bot.keyboards import all_menu_labels

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.routes import Route

BUTTONS: dict[Route, Step] = {
    routes.WORKER_MENU: patients.menu,
    routes.WORKER_REGISTER: register.start,
    routes.WORKER_SEX: register.sex,
    routes.WORKER_AGREE: register.agree,
    routes.WORKER_CODE_AGAIN: register.code_again,
    routes.WORKER_FIND: register.find_start,
    routes.WORKER_PATIENTS: patients.patient_list,
    routes.WORKER_PATIENT: patients.patient_card,
    routes.WORKER_BOOKING: patients.booking_view,
    routes.WORKER_CANCEL: patients.cancel_ask,
    routes.WORKER_CANCEL_CONFIRMED: patients.cancel,
    routes.WORKER_REQUEST: request.start,
    routes.WORKER_MODALITY: request.modality,
    routes.WORKER_EXAM: request.exam,
    routes.WORKER_CENTRE: request.centre,
    routes.WORKER_SCREENING: request.screening_answer,
    routes.WORKER_INSURER: request.insurer,
    routes.WORKER_WITHDRAW: request.withdraw_ask,
    routes.WORKER_WITHDRAW_CONFIRMED: request.withdraw,
    routes.WORKER_DAYS: book.days,
    routes.WORKER_DAY: book.day,
    routes.WORKER_HOLD: book.hold,
    routes.WORKER_CONFIRM: book.confirm,
}
# Presses that answer the step in progress (registration, screening, insurer) keep its state.
ANSWERS: set[Route] = {
    routes.WORKER_SEX,
    routes.WORKER_AGREE,
    routes.WORKER_CODE_AGAIN,
    routes.WORKER_CENTRE,
    routes.WORKER_SCREENING,
    routes.WORKER_INSURER,
}
TYPED: dict[str, TypedStep] = {
    "reg_nc": register.national_code,
    "reg_mobile": register.mobile,
    "reg_code": register.code,
    "reg_first": register.first_name,
    "reg_last": register.last_name,
    "reg_year": register.birth_year,
    "find": register.find,
    "req_src": request.source,
}


def worker_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The worker commands and buttons (registered before the patient fallbacks).

    Each one re-checks that this chat account is an active worker right now; otherwise the
    update goes on to the patient handlers, as if worker mode did not exist.
    """
    private = filters.ChatType.PRIVATE
    handlers: list[BaseHandler[Update, BotContext, Any]] = [
        CommandHandler("worker", patients.open_menu, filters=private),
        CommandHandler("cancel", cancel_input(HEALTH_WORKER), filters=private),
    ]
    handlers += [
        CallbackQueryHandler(
            press(HEALTH_WORKER, health_worker, route, s, keep_input=route in ANSWERS),
            pattern=route.pattern,
        )
        for route, s in BUTTONS.items()
    ]
    # Main-menu labels are left alone: a conversation handing one over must not get it back.
    typed = (filters.TEXT & ~filters.COMMAND & ~filters.Text(all_menu_labels())) | (
        filters.PHOTO | filters.Document.ALL
    )
    steps = {kind: (health_worker, step) for kind, step in TYPED.items()}
    handlers.append(MessageHandler(private & typed, typed_handler(HEALTH_WORKER, steps)))
    return handlers
