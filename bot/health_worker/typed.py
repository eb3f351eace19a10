"""What a worker types (or sends) after a step asked for it: a national code, a name, a photo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update

from bot.context import BotContext
from bot.handlers.common import pass_on, show
from bot.health_worker.common import CANCELLED, INPUT, View, back, failed
from clinic.actors import Actor
from clinic.errors import ClinicError

MAX_TEXT = 200


@dataclass(frozen=True)
class Typed:
    """An answer to the step ``state["kind"]``, the worker already checked."""

    update: Update
    context: BotContext
    worker: Actor
    message: Message
    text: str
    state: dict[str, Any]


TypedStep = Callable[[Typed], Awaitable[View]]


def ask(context: BotContext, kind: str, **fields: Any) -> None:
    """Wait for a typed answer to ``kind``, keeping what was gathered so far."""
    state = context.data.get(INPUT)
    base = state if isinstance(state, dict) else {}
    context.data[INPUT] = {**base, **fields, "kind": kind}


def typed_handler(
    steps: Mapping[str, TypedStep],
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A message handler: the awaited step while this is an active worker, else pass on."""

    async def on_message(update: Update, context: BotContext) -> None:
        message = update.message
        assert message is not None
        state = context.data.get(INPUT)
        kind = state.get("kind") if isinstance(state, dict) else None
        step = steps.get(str(kind))
        worker = context.visitor.worker
        if worker is None or step is None or not isinstance(state, dict):
            if worker is None:
                context.data.pop(INPUT, None)  # deactivated meanwhile: it ends at once
            pass_on(update, context)
        text = (message.text or "")[:MAX_TEXT]
        try:
            view = await step(Typed(update, context, worker, message, text, state))
        except ClinicError as error:
            view = failed(context, error)
        await show(update, context, view)

    on_message.__module__ = __name__
    return on_message


async def cancel_input(update: Update, context: BotContext) -> None:
    """/cancel while a worker step is open: drop it; otherwise the usual /cancel."""
    if context.visitor.worker is None or context.data.pop(INPUT, None) is None:
        pass_on(update, context)
    assert update.message is not None
    await update.message.reply_text(context._(CANCELLED), reply_markup=back(context))
