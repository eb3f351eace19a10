"""What every worker handler shares: the worker gate, falling through for others, rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler

from bot.callbacks import Callback, pack, unpack
from bot.context import BotContext
from bot.handlers.common import explain, not_modified, unexpected
from bot.keyboards import choices
from clinic.actors import Actor
from clinic.errors import N_, ClinicError, NotAllowed, NotFound
from clinic.models import Patient
from clinic.patients import check_access, get_patient
from clinic.uow import UnitOfWork

View = tuple[str, InlineKeyboardMarkup | None]
INPUT = "worker_input"  # what the worker is in the middle of: {"kind": …, ids and answers}
TO_MENU = N_("‹ Health worker menu")
CANCELLED = N_("Stopped. Nothing was changed.")
OPEN_MENU = N_("Send /worker to open the health worker menu.")


async def pass_on(update: Update, context: BotContext) -> None:
    """Handle ``update`` as if worker mode did not exist (for others: an unknown input)."""
    application = cast("Application[Any, BotContext, Any, Any, Any, Any]", context.application)
    handlers = application.handlers.get(0, [])
    # Only the handlers after ours: those before have already declined this update.
    mine = [i for i, h in enumerate(handlers) if _is_worker(h)]
    for handler in handlers[max(mine, default=-1) + 1 :]:
        if getattr(handler, "callback", None) is unexpected:
            continue  # the last resort: ours comes first for a worker
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, application, check, context)
            return
    if context.visitor.worker is not None and update.message is not None:
        # A worker has no patient menu: point them to theirs rather than to /start.
        await update.message.reply_text(context._(OPEN_MENU))
        return
    await unexpected(update, context)


def _is_worker(handler: BaseHandler[Any, Any, Any]) -> bool:
    callback = getattr(handler, "callback", None)
    return str(getattr(callback, "__module__", "")).startswith("bot.worker")


async def show(update: Update, context: BotContext, view: View) -> None:
    """Replace the pressed message, or answer the message the worker sent."""
    text, markup = view
    if markup is not None and not markup.inline_keyboard:
        markup = None
    query = update.callback_query
    if query is None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if not not_modified(error) and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def back(context: BotContext, *extra: tuple[str, str]) -> InlineKeyboardMarkup:
    """Extra buttons, then one back to the worker menu."""
    return choices([], extra=[*extra, (context._(TO_MENU), pack("wmenu"))])


def failed(context: BotContext, error: ClinicError) -> View:
    """A clinic error as a view; someone else's patient is only "not found"."""
    shown = NotFound() if isinstance(error, NotAllowed) else error
    return explain(shown, context), back(context)


async def my_patient(uow: UnitOfWork, worker: Actor, patient_id: int | None) -> Patient:
    """The worker's own patient, or NotFound (never a hint that someone else's exists)."""
    if patient_id is None:
        raise NotFound()
    patient = await get_patient(uow, patient_id)
    try:
        check_access(worker, patient)
    except NotAllowed:
        raise NotFound() from None
    return patient


@dataclass(frozen=True)
class Press:
    """A worker's button press, the worker already checked."""

    update: Update
    context: BotContext
    worker: Actor
    choice: Callback


Step = Callable[[Press], Awaitable[View | None]]


def press(
    step: Step, *, keep_input: bool = False
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A callback handler: re-check the worker now (else fall through), run ``step``, render.

    A press ends any typed step left open, except the presses that answer that step.
    """

    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        worker, choice = context.visitor.worker, unpack(query.data)
        if worker is None or choice is None:
            context.data.pop(INPUT, None)  # deactivated meanwhile: drop what was going on
            await pass_on(update, context)
            return
        await query.answer()
        if not keep_input:
            context.data.pop(INPUT, None)
        try:
            view = await step(Press(update, context, worker, choice))
        except ClinicError as error:
            view = failed(context, error)
        if view is not None:
            await show(update, context, view)

    handler.__module__ = __name__
    return handler
