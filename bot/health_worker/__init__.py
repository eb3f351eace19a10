"""Health-house worker (بهورز) mode: acting for patients who have no smartphone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import pattern
from bot.gate import Step, TypedStep, cancel_input, press, typed_handler
from bot.health_worker import book, patients, register, request
from bot.health_worker.common import HEALTH_WORKER, health_worker
from bot.keyboards import all_menu_labels

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext

BUTTONS: dict[str, Step] = {
    "wmenu": patients.menu,
    "wreg": register.start,
    "wsex": register.sex,
    "wagree": register.agree,
    "wfind": register.find_start,
    "wlist": patients.patient_list,
    "wpat": patients.patient_card,
    "wbk": patients.booking_view,
    "wcx": patients.cancel_ask,
    "wcxok": patients.cancel,
    "wreq": request.start,
    "wmod": request.modality,
    "wexam": request.exam,
    "wscr": request.screening_answer,
    "wins": request.insurer,
    "wrqx": request.withdraw_ask,
    "wrqxok": request.withdraw,
    "wdays": book.days,
    "wday": book.day,
    "whold": book.hold,
    "wok": book.confirm,
}
# Presses that answer the step in progress (registration, screening, insurer) keep its state.
ANSWERS = {"wsex", "wagree", "wscr", "wins"}
TYPED: dict[str, TypedStep] = {
    "reg_nc": register.national_code,
    "reg_mobile": register.mobile,
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
            press(HEALTH_WORKER, health_worker, s, keep_input=a in ANSWERS), pattern=pattern(a)
        )
        for a, s in BUTTONS.items()
    ]
    # Main-menu labels are left alone: a conversation handing one over must not get it back.
    typed = (filters.TEXT & ~filters.COMMAND & ~filters.Text(all_menu_labels())) | (
        filters.PHOTO | filters.Document.ALL
    )
    steps = {kind: (health_worker, step) for kind, step in TYPED.items()}
    handlers.append(MessageHandler(private & typed, typed_handler(HEALTH_WORKER, steps)))
    return handlers
