"""A new request for one of the worker's patients: modality, exam, screening, referral, insurer.

The health worker's side of ``bot.request_steps``: gate steps (``bot.gate``) acting for the
patient, the draft kept with the worker's typed input (``WORKER_INPUT``, its kind the stage),
each answer shown in place of the pressed message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bot import request_steps as steps
from bot import routes
from bot.drafts import WORKER_INPUT
from bot.handlers.common import explain
from bot.health_worker.book import days_view
from bot.health_worker.common import back, my_patient
from bot.health_worker.patients import TO_PATIENT, full_name
from bot.keyboards import choices
from bot.request_steps import ASK_SOURCE as ASK_SOURCE
from bot.request_steps import NO as NO
from bot.request_steps import WORKER_ROUTES, Button, Requester, Stage
from bot.request_steps import YES as YES
from bot.views import name
from clinic.centres import worker_county
from clinic.department_setup import department_setup
from clinic.errors import NotFound, Refusal, TrackingCodeInUse
from clinic.i18n import N_
from clinic.models import ReferralStatus
from clinic.open_referrals import withdraw_referral
from clinic.referrals import get_referral

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import RequestDraft, WorkerInput
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor
    from clinic.models import Patient
    from clinic.uow import UnitOfWork

KINDS = {
    Stage.MODALITY: "req",
    Stage.CENTRE: "req_ctr",
    Stage.SCREENING: "req_scr",
    Stage.SOURCE: "req_src",
    Stage.INSURER: "req_ins",
}
CHOOSE_MODALITY = N_("Which kind of imaging is on the patient's referral?")
ASK_WITH_PATIENT = N_("Please ask the patient:")
BLOCKED = N_(
    "Because of this answer the exam needs a conversation with the department first, for the "
    "patient's safety. Please call {phone}."
)
ASK_INSURER = N_("Which insurance covers the patient?")
WAIT_REVIEW = N_(
    "The referral has been received. Staff will review it; the patient gets an SMS and you a "
    "message when it can be booked, from the patient's card."
)
LOST = N_("Sorry, I lost track of this request. Please start it again from the patient's card.")
SURE_WITHDRAW = N_(
    "Cancel the request for {exam} of {name}? A new request would need the referral again."
)
YES_WITHDRAW, KEEP = N_("Yes, cancel the request"), N_("No, keep it")
WITHDRAWN = N_("The request is cancelled.")


class _Worker(Requester):
    """A health worker sending a request for their patient: "w" codes, the patient's id on the
    modality and exam buttons, ways back to the patient."""

    routes = WORKER_ROUTES
    choose_modality, blocked, ask_insurer = CHOOSE_MODALITY, BLOCKED, ASK_INSURER

    @property
    def scope(self) -> tuple[int, ...]:
        """The patient the buttons act for."""
        return (self.patient_id,)

    async def patient(self, uow: UnitOfWork) -> Patient:
        """The worker's own patient, or NotFound."""
        return await my_patient(uow, self.actor, self.patient_id)

    async def county(self, uow: UnitOfWork) -> str | None:
        """The county of the worker's health house (where their patients live)."""
        return await worker_county(uow, self.actor)

    def store(self, draft: RequestDraft, stage: Stage) -> None:
        """Kept as the worker's typed input, its kind the stage."""
        # The request's fields, its kind and the patient: a WorkerInput (mypy cannot tell that
        # a RequestDraft holds none of the registration's keys).
        state = {**draft, "kind": KINDS[stage], "patient_id": self.patient_id}
        WORKER_INPUT.put(self.context, cast("WorkerInput", state))

    def forget(self) -> None:
        """The input goes."""
        WORKER_INPUT.drop(self.context)

    def leave(self) -> list[Button]:
        """Back to the patient's card."""
        return [(self.context._(steps.BACK), routes.WORKER_PATIENT(self.patient_id))]

    def to_modalities(self) -> list[Button]:
        """Back to the modalities."""
        return [(self.context._(steps.BACK), routes.WORKER_REQUEST(self.patient_id))]

    def question(self, text: str) -> str:
        """The question for the worker to ask the patient."""
        return f"{self.context._(ASK_WITH_PATIENT)}\n{text}"

    def waiting(self) -> InlineKeyboardMarkup:
        """Back to the menu."""
        return back(self.context)


def _at(
    context: BotContext, actor: Actor, kind: str, state: WorkerInput | None = None
) -> tuple[_Worker, WorkerInput] | None:
    """The request waiting at ``kind`` and its draft (``state``: the typed input, else the one
    kept), or None when the worker's input is not that."""
    state = WORKER_INPUT.get(context) if state is None else state
    if state is None or state.get("kind") != kind or "patient_id" not in state:
        return None
    return _Worker(context, actor, state["patient_id"]), state


def _refused(r: Requester, error: Refusal) -> View:
    """The caps' answer before any question is asked, with the way back to the patient."""
    to_patient = (r.context._(TO_PATIENT), routes.WORKER_PATIENT(r.patient_id))
    return explain(error, r.context), back(r.context, to_patient)


async def start(p: Press) -> View:
    """Begin a request for the worker's patient: the modality."""
    r = _Worker(p.context, p.actor, p.args.id(0))
    try:
        return await steps.begin(r)
    except Refusal as error:
        return _refused(r, error)


async def modality(p: Press) -> View:
    """The exams of the chosen modality, a page at a time."""
    r = _Worker(p.context, p.actor, p.args.id(0))
    view = await steps.exams(r, p.args.word(1), p.args.page(2))
    if view is None:
        raise NotFound()
    return view


async def exam(p: Press) -> View:
    """Remember the exam; ask the screening questions that apply to this patient."""
    r = _Worker(p.context, p.actor, p.args.id(0))
    try:
        return await steps.choose_exam(r, p.args.id(1))
    except Refusal as error:
        return _refused(r, error)


async def centre(p: Press) -> View:
    """The centre chosen; then the safety questions."""
    at = _at(p.context, p.actor, "req_ctr")
    view = await steps.choose_centre(*at, p.args.id(0)) if at else None
    return view if view is not None else _lost(p.context)


async def screening_answer(p: Press) -> View:
    """Record the patient's answer; an answer that rules the exam out ends the request."""
    at = _at(p.context, p.actor, "req_scr")
    answered = await steps.answer(*at, p.args.id(0), p.args.number(1)) if at else None
    if at is None or answered is None:
        return _lost(p.context)
    if answered.blocked is not None:
        return f"{answered.said}\n\n{answered.blocked}", back(p.context)
    text, markup = await steps.ask_next(*at)
    return f"{answered.said}\n\n{text}", markup


async def source(t: Typed) -> View:
    """The tracking code typed, or a photo or PDF of the paper prescription."""
    at = _at(t.context, t.actor, "req_src", cast("WorkerInput", t.state))
    if at is None:
        raise NotFound()
    await steps.take_prescription(*at, t.message, t.text)
    asked = await steps.ask_insurer(*at)
    return asked if asked is not None else await _submit(*at)


async def insurer(p: Press) -> View:
    """The insurer, then the referral is submitted."""
    at = _at(p.context, p.actor, "req_ins")
    if at is None or not steps.choose_insurer(at[1], p.args.word(0)):
        return _lost(p.context)
    return await _submit(*at)


async def _submit(r: _Worker, state: WorkerInput) -> View:
    context = r.context
    try:
        referral = await steps.submit(r, state)
    except TrackingCodeInUse as error:
        # The answers stay: the worker checks the code with the patient, or sends a photo.
        return steps.source_again(r, error)
    if referral is None:
        return _lost(context)
    if referral.status == ReferralStatus.SUBMITTED:
        to_patient = (context._(TO_PATIENT), routes.WORKER_PATIENT(referral.patient_id))
        return context._(WAIT_REVIEW), back(context, to_patient)
    return await days_view(context, r.actor, ("ref", referral.id))


def _lost(context: BotContext) -> View:
    WORKER_INPUT.drop(context)
    return context._(LOST), back(context)


async def withdraw_ask(p: Press) -> View:
    """Ask before cancelling one of the patient's requests that has no time yet."""
    context = p.context
    async with context.services.uow() as uow:
        referral = await get_referral(uow, p.actor, p.args.id(0))
        patient = await my_patient(uow, p.actor, referral.patient_id)
        exam = (await department_setup(uow)).exam(referral.exam_id)
    buttons = [
        (context._(YES_WITHDRAW), routes.WORKER_WITHDRAW_CONFIRMED(referral.id)),
        (context._(KEEP), routes.WORKER_PATIENT(patient.id)),
    ]
    text = context._(SURE_WITHDRAW).format(exam=name(exam, context.lang), name=full_name(patient))
    return text, choices(buttons, columns=2)


async def withdraw(p: Press) -> View:
    """Cancel the request as the worker (the use case checks the patient is theirs)."""
    context = p.context
    async with context.services.uow() as uow:
        referral = await withdraw_referral(uow, p.actor, p.args.id(0))
        await uow.commit()
    return context._(WITHDRAWN), back(
        context, (context._(TO_PATIENT), routes.WORKER_PATIENT(referral.patient_id))
    )
