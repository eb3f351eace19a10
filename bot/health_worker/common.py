"""What every health-worker handler shares: who may act (an active health worker, read at
each update), the mode's gate (``bot.gate``), their own patients, and the way back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import gate, routes
from bot.handlers.common import explain
from bot.keyboards import choices
from clinic.errors import ClinicError, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.patients import check_access, get_patient

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.gate import View
    from clinic.actors import Actor
    from clinic.models import Patient
    from clinic.uow import UnitOfWork

INPUT = "worker_input"  # what the worker is in the middle of: {"kind": …, ids and answers}
TO_MENU = N_("‹ Health worker menu")
CANCELLED = N_("Stopped. Nothing was changed.")


def health_worker(context: BotContext) -> Actor | None:
    """The health worker acting in this chat, if active right now."""
    return context.visitor.worker


def back(context: BotContext, *extra: tuple[str, str]) -> InlineKeyboardMarkup:
    """Extra buttons, then one back to the worker menu."""
    return choices([], extra=[*extra, (context._(TO_MENU), routes.WORKER_MENU())])


def failed(context: BotContext, error: ClinicError) -> View:
    """A clinic error as a view; someone else's patient is only "not found"."""
    shown = NotFound() if isinstance(error, NotAllowed) else error
    return explain(shown, context), back(context)


HEALTH_WORKER = gate.Mode(
    member=health_worker,
    input_key=INPUT,
    failed=failed,
    back=back,
    cancelled=CANCELLED,
    max_text=200,
    gathers=True,  # registration gathers the patient's details over several steps
)


def ask(context: BotContext, kind: str, **fields: Any) -> None:
    """Wait for a typed answer to ``kind``, keeping what was gathered so far."""
    gate.ask(HEALTH_WORKER, context, kind, **fields)


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
