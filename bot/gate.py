"""The one gate a mode's buttons and typed answers pass through: who may act here, right now,
then the step, then one way to show what it returns.

A mode (staff, health worker) is a ``Mode``: who belongs to it, where a step waiting for
typing keeps its state, and how an error shows. Each handler names who may act (a staff role,
any active health worker); when the person may not, the update passes on to the next handler
group (``bot.handlers.common.pass_on``), as if the mode did not exist.

The patient's own buttons (``PatientMode``, ``patient_press``) pass the same gate: the press's
arguments checked against its route, the step acting as the patient registered in this chat
(whose use cases find only their own bookings and requests, and their family members' that
the account acts for), one way to show the view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Message, Update

from bot.callbacks import Callback, unpack
from bot.context import BotContext
from bot.handlers.common import pass_on, show, unexpected
from clinic.actors import Actor
from clinic.errors import ClinicError

if TYPE_CHECKING:
    from bot.routes import Args, Route

View = tuple[str, InlineKeyboardMarkup | None]
Who = Callable[[BotContext], Actor | None]  # who may act, right now; None: not this person
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
Failed = Callable[[BotContext, ClinicError], View]  # a clinic error, as the mode shows it


@dataclass(frozen=True)
class Mode:
    """One mode of the bot and how its gate behaves."""

    member: Who  # anyone in the mode at all (whatever their role)
    input_key: str  # where a step waiting for typing keeps its state: {"kind": …, ids…}
    failed: Failed
    back: Callable[[BotContext], InlineKeyboardMarkup]  # the way back to the mode's menu
    cancelled: str  # what /cancel says (a message id)
    max_text: int  # longer typed answers are cut (the use cases check their own limits)
    # True: typed steps gather fields across several steps (the health worker's registration)
    # and keep the state; False: each typed answer ends the wait unless the step asks again.
    gathers: bool


@dataclass(frozen=True)
class Press:
    """A button press of a route, who may act and the arguments' kinds already checked."""

    update: Update
    context: BotContext
    actor: Actor
    choice: Callback
    args: Args  # the press's typed arguments, read by kind: ``p.args.id(0)``


@dataclass(frozen=True)
class Typed:
    """A typed answer (or a sent photo or file) to the step ``state["kind"]``, who may act
    already checked."""

    update: Update
    context: BotContext
    actor: Actor
    message: Message
    text: str
    state: dict[str, Any]


Step = Callable[[Press], Awaitable[View | None]]
TypedStep = Callable[[Typed], Awaitable[View]]


@dataclass(frozen=True)
class PatientMode:
    """How the patient's buttons of one menu behave at the gate.

    The patient's handlers are the last handler group: a press that is not well formed has no
    later group to pass on to and meets the catch-all here (``bot.handlers.common.unexpected``).
    """

    failed: Failed  # a clinic error as a view (someone else's booking: "not found")
    unregistered: str  # what a press shows to someone not (or no longer) registered (a msgid)


def patient(context: BotContext) -> Actor | None:
    """The patient registered in this chat, acting for themself and for the family members
    the account acts for (read at this update); None for anyone else."""
    pid = context.visitor.patient_id
    return Actor.patient(pid, context.visitor.patient_ids) if pid is not None else None


def _pressed(route: Route, data: str | None) -> tuple[Callback, Args] | None:
    """The press as parsed and as ``route``'s typed arguments; None when it is not one."""
    choice, args = unpack(data), route.read(data)
    return None if choice is None or args is None else (choice, args)


async def _run(step: Step, p: Press, failed: Failed) -> None:
    """Run ``step``, a clinic error shown as ``failed`` says, and show the view (if any)."""
    try:
        view = await step(p)
    except ClinicError as error:
        view = failed(p.context, error)
    if view is not None:
        await show(p.update, p.context, view)


def ask(mode: Mode, context: BotContext, kind: str, **fields: Any) -> None:
    """Wait for a typed answer to ``kind`` (ids, choices and gathered answers only)."""
    state = context.data.get(mode.input_key)
    base = state if mode.gathers and isinstance(state, dict) else {}
    context.data[mode.input_key] = {**base, **fields, "kind": kind}


def press(mode: Mode, who: Who, route: Route, step: Step, *, keep_input: bool = False) -> Handler:
    """A callback handler for ``route``: check ``who`` now and the press's arguments (else
    pass on: a forged or malformed press meets the catch-all), run ``step``, show the view.

    A press ends any typed step left open, except the presses that answer that step.
    """

    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        actor, pressed = who(context), _pressed(route, query.data)
        if actor is None or pressed is None:
            if mode.member(context) is None:
                context.data.pop(mode.input_key, None)  # left the mode meanwhile: it ends
            pass_on()
        await query.answer()
        if not keep_input:
            context.data.pop(mode.input_key, None)
        await _run(step, Press(update, context, actor, *pressed), mode.failed)

    return handler


def patient_press(mode: PatientMode, route: Route, step: Step) -> Handler:
    """A callback handler for one of the patient's own buttons of ``route``: a malformed
    press meets the catch-all, someone not registered is told how to start, and ``step``
    acts as the patient registered in this chat (another patient's ids are not found)."""

    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        pressed = _pressed(route, query.data)
        if pressed is None:
            await unexpected(update, context)
            return
        await query.answer()
        actor = patient(context)
        if actor is None:
            await show(update, context, (context._(mode.unregistered), None))
            return
        await _run(step, Press(update, context, actor, *pressed), mode.failed)

    return handler


def typed_handler(mode: Mode, steps: Mapping[str, tuple[Who, TypedStep]]) -> Handler:
    """A message handler: the awaited step if this person may still answer it, else pass on."""

    async def on_message(update: Update, context: BotContext) -> None:
        message = update.message
        assert message is not None
        state = context.data.get(mode.input_key)
        kind = state.get("kind") if isinstance(state, dict) else None
        who, step = steps.get(str(kind), (None, None))
        actor = who(context) if who is not None else None
        if actor is None or step is None or not isinstance(state, dict):
            if who is not None or mode.member(context) is None:
                context.data.pop(mode.input_key, None)  # the right to answer went meanwhile
            pass_on()
        if not mode.gathers:
            del context.data[mode.input_key]
        text = (message.text or "")[: mode.max_text]
        try:
            view = await step(Typed(update, context, actor, message, text, state))
        except ClinicError as error:
            if not mode.gathers:
                context.data.setdefault(mode.input_key, state)  # let them type it again
            view = mode.failed(context, error)
        await show(update, context, view)

    return on_message


def cancel_input(mode: Mode) -> Handler:
    """/cancel while a step of ``mode`` waits for typing: drop it; otherwise the usual /cancel."""

    async def on_cancel(update: Update, context: BotContext) -> None:
        if mode.member(context) is None or context.data.pop(mode.input_key, None) is None:
            pass_on()
        assert update.message is not None
        await update.message.reply_text(context._(mode.cancelled), reply_markup=mode.back(context))

    return on_cancel
