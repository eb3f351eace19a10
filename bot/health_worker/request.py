"""A new request for one of the worker's patients: modality, exam, screening, referral, insurer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import routes
from bot.conversations.request import INSURERS
from bot.handlers.common import explain
from bot.health_worker.book import days_view
from bot.health_worker.common import INPUT, ask, back, my_patient
from bot.health_worker.patients import TO_PATIENT, full_name
from bot.keyboards import choices, paged
from bot.prescriptions import fetch_prescription, stored_file
from bot.views import MODALITY_NAMES, digits, name
from clinic.catalogue import exams_for_modality
from clinic.department_setup import department_setup
from clinic.errors import NotFound, Refusal, TrackingCodeInUse
from clinic.i18n import N_
from clinic.models import Insurer, ReferralStatus
from clinic.open_referrals import check_may_request, withdraw_referral
from clinic.referrals import (
    ReferralRequest,
    answers_by_code,
    get_referral,
    is_blocking,
    parse_tracking_code,
    screening_for,
    submit_referral,
)

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

CHOOSE_MODALITY = N_("Which kind of imaging is on the patient's referral?")
CHOOSE_EXAM = N_("Which exam?")
NO_EXAMS = N_("There are no exams of this kind to book through the bot right now.")
YES, NO = N_("Yes"), N_("No")
ASK_WITH_PATIENT = N_("Please ask the patient:")
BLOCKED = N_(
    "Because of this answer the exam needs a conversation with the department first, for the "
    "patient's safety. Please call {phone}."
)
ASK_SOURCE = N_(
    "Please type the e-prescription tracking code, or send a photo (or PDF) of the paper "
    "prescription."
)
ASK_INSURER = N_("Which insurance covers the patient?")
WAIT_REVIEW = N_(
    "The referral has been received. Staff will review it; the patient gets an SMS and you a "
    "message when it can be booked, from the patient's card."
)
LOST = N_("Sorry, I lost track of this request. Please start it again from the patient's card.")
MORE, BACK = N_("More ›"), N_("‹ Back")
SURE_WITHDRAW = N_(
    "Cancel the request for {exam} of {name}? A new request would need the referral again."
)
YES_WITHDRAW, KEEP = N_("Yes, cancel the request"), N_("No, keep it")
WITHDRAWN = N_("The request is cancelled.")


async def start(p: Press) -> View:
    """Begin a request for the worker's patient: the modality."""
    context = p.context
    async with context.services.uow() as uow:
        patient = await my_patient(uow, p.actor, p.choice.int_arg(0))
        refused = await _refusal(uow, context, p.actor, patient.id)
    if refused is not None:
        return refused
    context.data[INPUT] = {"kind": "req", "patient_id": patient.id}
    buttons = [
        (context._(label), routes.WORKER_MODALITY(patient.id, code))
        for code, label in MODALITY_NAMES.items()
    ]
    return context._(CHOOSE_MODALITY), choices(
        buttons, columns=2, extra=[(context._(BACK), routes.WORKER_PATIENT(patient.id))]
    )


async def modality(p: Press) -> View:
    """The exams of the chosen modality, a page at a time."""
    context, pid = p.context, p.choice.int_arg(0)
    code = p.choice.args[1] if len(p.choice.args) > 1 else ""
    if code not in MODALITY_NAMES:
        raise NotFound()
    async with context.services.uow() as uow:
        patient = await my_patient(uow, p.actor, pid)
        exams = await exams_for_modality(uow, code)
    back_to = (context._(BACK), routes.WORKER_REQUEST(patient.id))
    if not exams:
        return context._(NO_EXAMS), choices([], extra=[back_to])
    items = [(name(e, context.lang), routes.WORKER_EXAM(patient.id, e.id)) for e in exams]
    markup = paged(
        items,
        p.choice.int_arg(2) or 0,
        routes.WORKER_MODALITY,
        patient.id,
        code,
        more=context._(MORE),
        back=context._(BACK),
        extra=[back_to],
    )
    return context._(CHOOSE_EXAM), markup


async def exam(p: Press) -> View:
    """Remember the exam; ask the screening questions that apply to this patient."""
    context, exam_id = p.context, p.choice.int_arg(1)
    if exam_id is None:
        raise NotFound()
    async with context.services.uow() as uow:
        patient = await my_patient(uow, p.actor, p.choice.int_arg(0))
        refused = await _refusal(uow, context, p.actor, patient.id, exam_id)
        questions = await screening_for(uow, exam_id, patient.id)
    if refused is not None:
        return refused
    context.data[INPUT] = {
        "kind": "req_scr",
        "patient_id": patient.id,
        "exam_id": exam_id,
        "questions": [q.id for q in questions],
        "answers": {},
    }
    return await _next_question(context, "")


async def _refusal(
    uow: UnitOfWork, context: BotContext, worker: Actor, pid: int, exam_id: int | None = None
) -> View | None:
    """The caps' answer before any question is asked, with the way back to the patient."""
    try:
        await check_may_request(uow, worker, pid, exam_id)
    except Refusal as error:
        return explain(error, context), back(
            context, (context._(TO_PATIENT), routes.WORKER_PATIENT(pid))
        )
    return None


async def _next_question(context: BotContext, before: str) -> View:
    state = context.data[INPUT]
    pending = [q for q in state["questions"] if str(q) not in state["answers"]]
    prefix = f"{before}\n\n" if before else ""
    if not pending:
        ask(context, "req_src")
        return prefix + context._(ASK_SOURCE), back(context)
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[pending[0]]
    text = question.text_fa if context.lang == "fa" else question.text_en
    buttons = [
        (context._(YES), routes.WORKER_SCREENING(question.id, 1)),
        (context._(NO), routes.WORKER_SCREENING(question.id, 0)),
    ]
    asked = f"{prefix}{context._(ASK_WITH_PATIENT)}\n{text}"
    return asked, choices(buttons, columns=2, extra=[])


async def screening_answer(p: Press) -> View:
    """Record the patient's answer; an answer that rules the exam out ends the request."""
    context = p.context
    state = context.data.get(INPUT) or {}
    qid, answer = p.choice.int_arg(0), p.choice.int_arg(1)
    if state.get("kind") != "req_scr" or qid is None or qid not in state.get("questions", []):
        return _lost(context)
    if answer not in (0, 1):
        raise NotFound()
    async with context.services.uow() as uow:
        await my_patient(uow, p.actor, state["patient_id"])
        question = (await department_setup(uow)).questions[qid]
    asked = question.text_fa if context.lang == "fa" else question.text_en
    said = f"{asked}\n— {context._(YES if answer else NO)}"
    if is_blocking(question, bool(answer)):
        context.data.pop(INPUT, None)
        phone = digits(context.services.department.phone, context.lang)
        return f"{said}\n\n{context._(BLOCKED).format(phone=phone)}", back(context)
    state["answers"][str(qid)] = bool(answer)
    return await _next_question(context, said)


async def source(t: Typed) -> View:
    """The tracking code typed, or a photo or PDF of the paper prescription."""
    if t.message.photo or t.message.document is not None:
        t.state["file"] = await fetch_prescription(t.message, t.context)
    else:
        t.state["tracking_code"] = parse_tracking_code(t.text)
    async with t.context.services.uow() as uow:
        patient = await my_patient(uow, t.actor, t.state.get("patient_id"))
    if patient.insurer:
        t.state.setdefault("insurer", patient.insurer)  # remembered, not asked twice
    if "insurer" in t.state:  # saved, or already answered before a code was refused
        return await _submit(t.context, t.actor)
    ask(t.context, "req_ins")
    buttons = [
        (t.context._(label), routes.WORKER_INSURER(code.value)) for code, label in INSURERS.items()
    ]
    return t.context._(ASK_INSURER), choices(buttons)


async def insurer(p: Press) -> View:
    """The insurer, then the referral is submitted."""
    state = p.context.data.get(INPUT) or {}
    code = p.choice.args[0] if p.choice.args else ""
    if state.get("kind") != "req_ins" or code not in {i.value for i in Insurer}:
        return _lost(p.context)
    state["insurer"] = code
    return await _submit(p.context, p.actor)


async def _submit(context: BotContext, worker: Actor) -> View:
    state: dict[str, Any] = context.data.pop(INPUT, None) or {}
    if not {"patient_id", "exam_id", "insurer"} <= state.keys():
        return _lost(context)
    try:
        async with context.services.uow() as uow:
            request = ReferralRequest(
                state["patient_id"],
                state["exam_id"],
                state["insurer"],
                await answers_by_code(uow, state.get("answers", {})),
                tracking_code=state.get("tracking_code"),
                file=stored_file(state.get("file")),
            )
            referral = await submit_referral(uow, worker, request)
            await uow.commit()
    except TrackingCodeInUse as error:
        # The answers stay: the worker checks the code with the patient, or sends a photo.
        state.pop("tracking_code", None)
        context.data[INPUT] = {**state, "kind": "req_src"}
        return f"{explain(error, context)}\n\n{context._(ASK_SOURCE)}", back(context)
    if referral.status == ReferralStatus.SUBMITTED:
        return context._(WAIT_REVIEW), back(
            context, (context._(TO_PATIENT), routes.WORKER_PATIENT(referral.patient_id))
        )
    return await days_view(context, worker, ("ref", referral.id))


def _lost(context: BotContext) -> View:
    context.data.pop(INPUT, None)
    return context._(LOST), back(context)


async def withdraw_ask(p: Press) -> View:
    """Ask before cancelling one of the patient's requests that has no time yet."""
    context, referral_id = p.context, p.choice.int_arg(0)
    if referral_id is None:
        raise NotFound()
    async with context.services.uow() as uow:
        referral = await get_referral(uow, p.actor, referral_id)
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
    context, referral_id = p.context, p.choice.int_arg(0)
    if referral_id is None:
        raise NotFound()
    async with context.services.uow() as uow:
        referral = await withdraw_referral(uow, p.actor, referral_id)
        await uow.commit()
    return context._(WITHDRAWN), back(
        context, (context._(TO_PATIENT), routes.WORKER_PATIENT(referral.patient_id))
    )
