"""Handlers that run for every update: once-only, who is asking, errors, anything unexpected."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, BaseHandler, ConversationHandler

from bot.context import BotContext
from bot.keyboards import main_menu
from clinic.i18n import N_, pick_language, translator

if TYPE_CHECKING:
    from clinic.accounts import ChatIdentity
    from clinic.errors import ClinicError

log = logging.getLogger(__name__)

SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")
NOT_UNDERSTOOD = N_(
    "I did not understand that. Please use the buttons below, or send /cancel to start over."
)
START_FIRST = N_("Please send /start to begin.")
STALE = N_("This button is no longer active. Please use the menu.")
PRIVATE_ONLY = N_("For your privacy, please talk to me in a private chat.")
EDITS_IGNORED = N_("I only read new messages, not edits. Please send it again as a new message.")
SLOW_DOWN = N_(
    "You are sending messages faster than I can read them. Please wait half a minute, then "
    "carry on; what you send before then is not read."
)
# Commands a group member may send the bot; it answers them with one line pointing to a private
# chat and ignores everything else said in groups.
GROUP_COMMANDS = ("/start", "/help")


async def arrive(update: Update, context: BotContext) -> None:
    """Once-only, then who is asking and in which language: one transaction for the updates
    arriving together (``bot.arrivals``).

    A re-delivered update (after a restart) is dropped. Only private chats are served: groups
    get one line for a command, edits a short note. Roles are read for every update, so a role
    removed a moment ago no longer works.
    """
    user, chat = update.effective_user, update.effective_chat
    served = user is not None and chat is not None and not user.is_bot
    private = served and chat is not None and chat.type == ChatType.PRIVATE
    services, bot_data = context.services, context.bot_data
    fresh, identity = await bot_data.arrivals.arrive(
        services.uow,
        services.platform,
        update.update_id,
        user.id if private and user is not None else None,
        bot_data.prune_due,
    )
    if not fresh:
        log.info("update %s already processed; skipped", update.update_id)
        raise ApplicationHandlerStop
    if user is None or not served:
        raise ApplicationHandlerStop
    if identity is None:
        context.visitor.lang = pick_language(context.data.get("lang"), user.language_code)
        await _in_group(update, context)
        raise ApplicationHandlerStop
    _know(context, user.id, user.language_code, identity)
    if update.edited_message is not None:
        await update.edited_message.reply_text(context._(EDITS_IGNORED))
        raise ApplicationHandlerStop


def _know(context: BotContext, user_id: int, language: str | None, who: ChatIdentity) -> None:
    own = who.own
    visitor = context.visitor
    visitor.staff, visitor.worker = who.staff, who.worker
    visitor.lang = pick_language(own.language if own else context.data.get("lang"), language)
    visitor.user_id = user_id
    visitor.patient_id = own.id if own else None
    visitor.patient_ids = [p.id for p in who.patients]
    if context.bot_data.flood is not None:
        works_here = who.staff is not None or who.worker is not None
        context.bot_data.flood.mark(user_id, staff=works_here)


async def flood_notice(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> None:
    """Tell a flooding account, once, that it is not being read for now."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return
    _ = translator(pick_language(None, user.language_code)).gettext
    try:
        await application.bot.send_message(chat.id, _(SLOW_DOWN))
    except TelegramError as exc:
        log.info("could not send the flood notice: %s", type(exc).__name__)


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


# The handler groups, in the order python-telegram-bot tries them (one handler a group). A
# handler that takes an update keeps the later groups away from it (``final``); a gate that
# finds the update is not for it (``pass_on``) lets the next group try.
ARRIVAL, CONVERSATIONS, STAFF, HEALTH_WORKER, PATIENT = -1, 0, 1, 2, 3


class PassOn(Exception):
    """Raised by a gated handler: this update is not for it; the next group tries."""


def pass_on() -> NoReturn:
    """Leave the update being handled to the next handler group (who sent it may not act here)."""
    raise PassOn


H = TypeVar("H", bound="BaseHandler[Update, BotContext, None]")


def final(handler: H) -> H:
    """``handler``, made to stop the later groups once its callback has taken an update
    (unless the callback passes the update on)."""
    inner = handler.callback

    async def callback(update: Update, context: BotContext) -> None:
        try:
            await inner(update, context)
        except PassOn:
            return
        raise ApplicationHandlerStop

    handler.callback = callback
    return handler


class Conversation(ConversationHandler[BotContext]):
    """A conversation that keeps the later handler groups away from the updates it takes."""

    __slots__ = ()

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, BotContext, Any, Any, Any, Any],
        check_result: Any,
        context: BotContext,
    ) -> object | None:
        """Handle the update as a conversation does, then stop the later groups."""
        await super().handle_update(update, application, check_result, context)
        raise ApplicationHandlerStop


OPEN_WORKER_MENU = N_("Send /worker to open the health worker menu.")


async def unexpected(update: Update, context: BotContext) -> None:
    """Answer anything no handler took (stickers, voice, random text, old buttons) kindly."""
    if update.callback_query:
        await update.callback_query.answer(context._(STALE))
        return
    if update.message is None:
        return
    if context.visitor.worker is not None:
        # A health worker has no patient menu: point them to theirs rather than to /start.
        await update.message.reply_text(context._(OPEN_WORKER_MENU))
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
    # As python-telegram-bot dispatches: group by group, the first handler that takes it.
    for group in sorted(g for g in application.handlers if g >= CONVERSATIONS):
        for handler in application.handlers[group]:
            if isinstance(handler, ConversationHandler) and handler.name == leaving:
                continue
            check = handler.check_update(update)
            if check is None or check is False:
                continue
            try:
                await handler.handle_update(update, application, check, context)
            except ApplicationHandlerStop:
                return
            break


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
    """Replace the pressed message (a new one when it cannot be edited), or answer the message
    the user sent: the one way every mode (patient, staff, health worker) shows a view."""
    text, markup = view
    if markup is not None and not markup.inline_keyboard:
        markup = None  # an empty keyboard is not a valid one
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
