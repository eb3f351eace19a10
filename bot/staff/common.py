"""What every staff handler shares: the role gate, falling through for others, rendering."""

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
from clinic.errors import ClinicError
from clinic.i18n import N_
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
            pass_on(update, context)
        await query.answer()
        context.data.pop(INPUT, None)  # a button press ends any typed step left open
        try:
            view = await step(Press(update, context, actor, choice))
        except ClinicError as error:
            view = (explain(error, context), back(context))
        if view is not None:
            await show(update, context, view)

    return handler
