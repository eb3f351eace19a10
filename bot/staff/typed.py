"""Typed answers staff give after a button asked for them (a reason, a date, a number)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import explain, pass_on, show
from bot.staff.common import CANCELLED, INPUT, View, back, staff
from clinic.actors import Actor
from clinic.errors import ClinicError
from clinic.models import Role

MAX_TEXT = 1200  # longer than any answer we ask for; the use cases check their own limits


@dataclass(frozen=True)
class Typed:
    """A typed answer to the step ``state["kind"]``, the role already checked."""

    update: Update
    context: BotContext
    actor: Actor
    text: str
    state: dict[str, Any]


TypedStep = Callable[[Typed], Awaitable[View]]
Steps = Mapping[str, tuple[Role, TypedStep]]


def ask(context: BotContext, kind: str, **ids: Any) -> None:
    """Wait for a typed answer to ``kind`` (ids and choices only, never personal data)."""
    context.data[INPUT] = {"kind": kind, **ids}


def typed_handler(steps: Steps) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A text handler: the awaited step if this staff member still has its role, else pass on."""

    async def on_text(update: Update, context: BotContext) -> None:
        assert update.message is not None and update.message.text is not None
        state = context.data.get(INPUT)
        kind = state.get("kind") if isinstance(state, dict) else None
        role, step = steps.get(str(kind), (None, None))
        actor = staff(context, role) if role is not None else None
        if actor is None or step is None or state is None:
            context.data.pop(INPUT, None)  # a role removed meanwhile ends the step at once
            pass_on(update, context)
        del context.data[INPUT]
        try:
            view = await step(Typed(update, context, actor, update.message.text[:MAX_TEXT], state))
        except ClinicError as error:
            context.data.setdefault(INPUT, state)  # let them type it again
            view = (explain(error, context), back(context))
        await show(update, context, view)

    return on_text


async def cancel_input(update: Update, context: BotContext) -> None:
    """/cancel while a staff step waits for typing: drop it; otherwise the usual /cancel."""
    if context.visitor.staff is None or context.data.pop(INPUT, None) is None:
        pass_on(update, context)
    assert update.message is not None
    await update.message.reply_text(context._(CANCELLED))
