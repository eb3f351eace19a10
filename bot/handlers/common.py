"""Handlers that run for every update: once-only, who is asking, errors, anything unexpected."""

from __future__ import annotations

import logging
from typing import Any, cast

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ConversationHandler

from bot.context import BotContext
from bot.keyboards import main_menu
from clinic import chat_state
from clinic.errors import N_, ClinicError
from clinic.i18n import pick_language
from clinic.linking import worker_actor
from clinic.patients import patients_for_chat
from clinic.staff import staff_actor

log = logging.getLogger(__name__)

SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")
NOT_UNDERSTOOD = N_(
    "I did not understand that. Please use the buttons below, or send /cancel to start over."
)
START_FIRST = N_("Please send /start to begin.")
STALE = N_("This button is no longer active. Please use the menu.")
PRIVATE_ONLY = N_("For your privacy, please talk to me in a private chat.")
EDITS_IGNORED = N_("I only read new messages, not edits. Please send it again as a new message.")
# Commands a group member may send the bot; it answers them with one line pointing to a private
# chat and ignores everything else said in groups.
GROUP_COMMANDS = ("/start", "/help")


async def once(update: Update, context: BotContext) -> None:
    """Drop an update that was already processed (a re-delivery after a restart)."""
    async with context.services.uow() as uow:
        fresh = await chat_state.first_time(uow, context.services.platform.value, update.update_id)
        await uow.commit()
    if not fresh:
        log.info("update %s already processed; skipped", update.update_id)
        raise ApplicationHandlerStop


async def who(update: Update, context: BotContext) -> None:
    """Find the patient behind this chat account and the language to answer in.

    Only private chats are served: groups get one line for a command, edits a short note.
    """
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        raise ApplicationHandlerStop
    context.visitor.lang = pick_language(context.data.get("lang"), user.language_code)
    if chat.type != ChatType.PRIVATE:
        await _in_group(update, context)
        raise ApplicationHandlerStop
    platform = context.services.platform
    async with context.services.uow() as uow:
        patients = await patients_for_chat(uow, platform, user.id)
        # Roles are read for every update, so a role removed a moment ago no longer works.
        context.visitor.staff = await staff_actor(uow, platform, user.id)
        context.visitor.worker = await worker_actor(uow, platform, user.id)
    own = patients[0] if patients else None
    saved = own.language if own else context.data.get("lang")
    context.visitor.lang = pick_language(saved, user.language_code)
    context.visitor.patient_id = own.id if own else None
    context.visitor.patient_ids = [p.id for p in patients]
    if update.edited_message is not None:
        await update.edited_message.reply_text(context._(EDITS_IGNORED))
        raise ApplicationHandlerStop


async def _in_group(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
        return
    message = update.message
    if message is None or not message.text:
        return
    command = message.text.split(maxsplit=1)[0].split("@", 1)[0].lower()
    if command in GROUP_COMMANDS:
        await message.reply_text(context._(PRIVATE_ONLY))


async def unexpected(update: Update, context: BotContext) -> None:
    """Answer anything no handler took (stickers, voice, random text, old buttons) kindly."""
    if update.callback_query:
        await update.callback_query.answer(context._(STALE))
        return
    if update.message is None:
        return
    if context.visitor.patient_id is None:
        await update.message.reply_text(context._(START_FIRST))
        return
    await update.message.reply_text(
        context._(NOT_UNDERSTOOD), reply_markup=main_menu(context.lang)
    )


async def hand_over(update: Update, context: BotContext, leaving: str) -> None:
    """Give an update a conversation let go of to the first other handler that takes it.

    A main-menu button in the middle of a conversation ends that conversation and then does
    what the button says, as if no conversation had been running.
    """
    application = cast("Application[Any, BotContext, Any, Any, Any, Any]", context.application)
    for handler in application.handlers.get(0, []):
        if isinstance(handler, ConversationHandler) and handler.name == leaving:
            continue
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, application, check, context)
            return


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure without personal data and apologise to the user."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        # The user blocked the bot (or left): nobody to apologise to.
        log.info("update %s: the user cannot be reached (%s)", update_id, type(error).__name__)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("update %s: network trouble (%s)", update_id, type(error).__name__)
    else:
        log.error("update %s failed: %s", update_id, type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, context._(SORRY))
        except TelegramError:
            log.warning("could not apologise for update %s", update_id)


async def show(
    update: Update, context: BotContext, view: tuple[str, InlineKeyboardMarkup | None]
) -> None:
    """Replace the pressed message, or answer the message the user sent."""
    text, markup = view
    query = update.callback_query
    if query is None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if not not_modified(exc) and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def explain(error: ClinicError, context: BotContext) -> str:
    """A clinic error in the user's language, numbers in Persian digits for ``fa``."""
    return error.render(context._, persian_digits=context.lang == "fa")


def not_modified(error: BadRequest) -> bool:
    """Whether Telegram refused an edit only because nothing would change (a double tap)."""
    return "not modified" in str(error).lower()


END = ConversationHandler.END
