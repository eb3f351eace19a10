"""What every worker handler shares: the worker gate, falling through for others, rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.callbacks import Callback, pack, unpack
from bot.context import BotContext
from bot.handlers.common import explain, pass_on, show
from bot.keyboards import choices
from clinic.actors import Actor
from clinic.errors import ClinicError, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.models import Patient
from clinic.patients import check_access, get_patient
from clinic.uow import UnitOfWork

View = tuple[str, InlineKeyboardMarkup | None]
INPUT = "worker_input"  # what the worker is in the middle of: {"kind": …, ids and answers}
TO_MENU = N_("‹ Health worker menu")
CANCELLED = N_("Stopped. Nothing was changed.")


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
            pass_on(update, context)
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
