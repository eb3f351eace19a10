"""Handlers that run for every update: once-only, who is asking, errors, anything unexpected."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ConversationHandler

from bot.context import BotContext
from bot.keyboards import main_menu
from clinic import chat_state
from clinic.errors import N_, ClinicError
from clinic.i18n import pick_language
from clinic.patients import patients_for_chat

log = logging.getLogger(__name__)

SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")
NOT_UNDERSTOOD = N_(
    "I did not understand that. Please use the buttons below, or send /cancel to start over."
)
PRIVATE_ONLY = N_("For your privacy, please talk to me in a private chat.")


async def once(update: Update, context: BotContext) -> None:
    """Drop an update that was already processed (a re-delivery after a restart)."""
    async with context.services.uow() as uow:
        fresh = await chat_state.first_time(uow, context.services.platform.value, update.update_id)
        await uow.commit()
    if not fresh:
        log.info("update %s already processed; skipped", update.update_id)
        raise ApplicationHandlerStop


async def who(update: Update, context: BotContext) -> None:
    """Find the patient behind this chat account and the language to answer in."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE:
        if update.message and update.message.text and update.message.text.startswith("/"):
            await update.message.reply_text(context._(PRIVATE_ONLY))
        raise ApplicationHandlerStop
    async with context.services.uow() as uow:
        patients = await patients_for_chat(uow, context.services.platform, user.id)
    own = patients[0] if patients else None
    saved = own.language if own else context.data.get("lang")
    context.visitor.lang = pick_language(saved, user.language_code)
    context.visitor.patient_id = own.id if own else None
    context.visitor.patient_ids = [p.id for p in patients]


async def unexpected(update: Update, context: BotContext) -> None:
    """Answer anything no handler took (stickers, voice, random text) kindly."""
    if update.callback_query:
        await update.callback_query.answer(context._(NOT_UNDERSTOOD), show_alert=False)
        return
    if update.effective_message and update.message:
        keyboard = main_menu(context.lang) if context.visitor.patient_id else None
        await update.message.reply_text(context._(NOT_UNDERSTOOD), reply_markup=keyboard)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure without personal data and apologise to the user."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s", update_id, type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, context._(SORRY))
        except TelegramError:
            log.warning("could not apologise for update %s", update_id)


def explain(error: ClinicError, context: BotContext) -> str:
    """A clinic error in the user's language, numbers in Persian digits for ``fa``."""
    return error.render(context._, persian_digits=context.lang == "fa")


END = ConversationHandler.END
