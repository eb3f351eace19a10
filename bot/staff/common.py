"""What every staff handler shares: the role gate, falling through for others, rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler

from bot.callbacks import Callback, pack, unpack
from bot.context import BotContext
from bot.handlers.common import explain, unexpected
from bot.keyboards import choices
from clinic.actors import Actor
from clinic.errors import N_, ClinicError
from clinic.models import Role

View = tuple[str, InlineKeyboardMarkup | None]
INPUT = "staff_input"  # the typed answer a staff step waits for: {"kind": …, ids…}
TO_MENU = N_("‹ Staff menu")
CANCELLED = N_("Stopped. Nothing was changed.")


def staff(context: BotContext, role: Role) -> Actor | None:
    """The staff actor when they hold ``role`` (admins hold every role) right now, else None."""
    actor = context.visitor.staff
    if actor is None or not (Role.ADMIN in actor.roles or role in actor.roles):
        return None
    return actor


async def pass_on(update: Update, context: BotContext) -> None:
    """Handle ``update`` as if no staff handler existed (for non-staff: an unknown input)."""
    application = cast("Application[Any, BotContext, Any, Any, Any, Any]", context.application)
    handlers = application.handlers.get(0, [])
    # Only the handlers after the staff ones: those before have already declined this update
    # (and a conversation handing an update over must not get it back).
    mine = [i for i, h in enumerate(handlers) if _is_staff(h)]
    for handler in handlers[max(mine, default=-1) + 1 :]:
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, application, check, context)
            return
    await unexpected(update, context)


def _is_staff(handler: BaseHandler[Any, Any, Any]) -> bool:
    callback = getattr(handler, "callback", None)
    return str(getattr(callback, "__module__", "")).startswith("bot.staff")


async def show(update: Update, context: BotContext, view: View) -> None:
    """Replace the pressed message, or answer the message the staff member sent."""
    text, markup = view
    query = update.callback_query
    if query is None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc) and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def back(context: BotContext, *extra: tuple[str, str]) -> InlineKeyboardMarkup:
    """Extra buttons, then one back to the staff menu."""
    return choices([], extra=[*extra, (context._(TO_MENU), pack("smenu"))])


@dataclass(frozen=True)
class Press:
    """A staff button press, the role already checked."""

    update: Update
    context: BotContext
    actor: Actor
    choice: Callback


Step = Callable[[Press], Awaitable[View | None]]


def press(role: Role, step: Step) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A callback handler: re-check the role now (else fall through), run ``step``, render."""

    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        actor, choice = staff(context, role), unpack(query.data)
        if actor is None or choice is None:
            await pass_on(update, context)
            return
        await query.answer()
        context.data.pop(INPUT, None)  # a button press ends any typed step left open
        try:
            view = await step(Press(update, context, actor, choice))
        except ClinicError as error:
            view = (explain(error, context), back(context))
        if view is not None:
            await show(update, context, view)

    return handler
