"""Reception books for a patient (at the desk or on the phone) or gives a walk-in a ticket:
the national code typed, the patient checked (a no-show block shown, and lifted), the exam,
the insurer, the prescription, then each safety question the exam asks of this patient; then
the time (``bot.staff.desk_times``) or the ticket (``bot.staff.walk_ins``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.conversations.request import INSURERS
from bot.drafts import DESK, DeskDraft, StaffInput
from bot.keyboards import choices, paged
from bot.request_steps import CHOOSE_EXAM, NO, YES
from bot.staff import desk_times, walk_ins
from bot.staff.common import TO_MENU, ask, back
from bot.staff.desk_draft import STALE, blocked, draft, patient_line
from bot.views import MODALITY_NAMES, name
from clinic import audit
from clinic.catalogue import exams_for_modality
from clinic.department_setup import department_setup
from clinic.desk import questions_for_patient
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.models import Insurer
from clinic.no_shows import lift_block
from clinic.patients import find_by_national_code, get_patient
from clinic.referrals import is_blocking, parse_tracking_code
from clinic.walk_ins import NotWalkIn

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor
    from clinic.models import Patient

ASK_CODE = N_("Booking for a patient. Please type their national code (10 digits).")
ASK_CODE_WALK_IN = N_("A walk-in ticket. Please type the patient's national code (10 digits).")
NO_PATIENT = N_(
    "No patient has this national code. Please check it with the patient (or register them "
    "first) and type it again."
)
CHOOSE_MODALITY = N_("Which kind of imaging?")
CHOOSE_WALK_IN = N_("Which walk-in exam?")
NO_WALK_IN = N_("No exam is given in the walk-in queue at the moment.")
NO_EXAMS = N_("There are no exams of this kind at the moment.")
LIFT = N_("🔓 Lift the block")
LIFTED = N_("The block is lifted: the patient can book in the chat again.")
ASK_INSURER = N_("Which insurance does the patient have?")
ASK_PRESCRIPTION = N_(
    "Please type the e-prescription tracking code, or press the button below if the paper "
    "prescription is in your hands."
)
PAPER = N_("📄 Paper prescription in hand")
QUESTION = N_("Please ask the patient:\n{question}")
ANSWER_BLOCKS = N_(
    "Because of this answer, the exam needs a conversation with the department's doctor "
    "first. Nothing was booked."
)
MORE, EARLIER = N_("More ›"), N_("‹ Back")


async def desk_ask(p: Press) -> View:
    """Book for a patient: wait for their national code."""
    DESK.drop(p.context)
    ask(p.context, StaffInput(kind="desk_patient"))
    return p.context._(ASK_CODE), back(p.context)


async def walk_in_ask(p: Press) -> View:
    """A walk-in ticket: wait for the patient's national code."""
    DESK.drop(p.context)
    ask(p.context, StaffInput(kind="walk_in_patient"))
    return p.context._(ASK_CODE_WALK_IN), back(p.context)


async def _found(t: Typed, *, walk_in: bool) -> View:
    """The patient of the national code typed (Persian digits fine): their card, the exams."""
    async with t.context.services.uow() as uow:
        patient = await find_by_national_code(uow, t.text)  # InvalidNationalCode: type again
        if patient is None:
            raise NotFound(NO_PATIENT)
        await audit.read(uow, t.actor, "patient", patient.id, via="desk")
        await uow.commit()
    DESK.put(t.context, DeskDraft(walk_in=walk_in, patient=patient.id))
    return await patient_view(t.context, patient, walk_in=walk_in)


async def desk_patient(t: Typed) -> View:
    """The national code for a desk or phone booking."""
    return await _found(t, walk_in=False)


async def walk_in_patient(t: Typed) -> View:
    """The national code for a walk-in ticket."""
    return await _found(t, walk_in=True)


async def patient_view(
    context: BotContext, patient: Patient, *, walk_in: bool, note: str | None = None
) -> View:
    """Who the patient is, a no-show block if any (to lift), and the exams to choose from."""
    why = blocked(context, patient)
    extra = [(context._(LIFT), routes.DESK_LIFT(patient.id))] if why else []
    extra.append((context._(TO_MENU), routes.STAFF_MENU()))
    if walk_in:
        async with context.services.uow() as uow:
            setup = await department_setup(uow)
        found = [e for e in setup.exams.values() if e.active and e.walk_in]
        items = [(name(e, context.lang), routes.DESK_EXAM(e.id)) for e in found]
        question = context._(CHOOSE_WALK_IN if items else NO_WALK_IN)
        columns = 1
    else:
        items = [
            (context._(label), routes.DESK_MODALITY(code))
            for code, label in MODALITY_NAMES.items()
        ]
        question, columns = context._(CHOOSE_MODALITY), 2
    text = "\n\n".join(
        part for part in (note, patient_line(context, patient), why, question) if part
    )
    return text, choices(items, columns=columns, extra=extra)


async def lift(p: Press) -> View:
    """Forgive the patient's no-shows (reception or admin), then go on with the booking."""
    found, patient_id = draft(p.context, "patient"), p.args.id(0)
    if found["patient"] != patient_id:
        raise NotFound(STALE)
    async with p.context.services.uow() as uow:
        patient = await lift_block(uow, p.actor, patient_id)
        await uow.commit()
    return await patient_view(
        p.context, patient, walk_in=found["walk_in"], note=p.context._(LIFTED)
    )


async def modality(p: Press) -> View | None:
    """A page of a modality's exams; None for no modality (a forged press)."""
    code, context = p.args.word(0), p.context
    if code not in MODALITY_NAMES:
        return None
    draft(context, "patient")
    async with context.services.uow() as uow:
        found = await exams_for_modality(uow, code)
    menu = [(context._(TO_MENU), routes.STAFF_MENU())]
    if not found:
        return context._(NO_EXAMS), choices([], extra=menu)
    items = [(name(e, context.lang), routes.DESK_EXAM(e.id)) for e in found]
    markup = paged(
        items, p.args.page(1), routes.DESK_MODALITY, code,
        more=context._(MORE), back=context._(EARLIER), extra=menu,
    )  # fmt: skip
    return context._(CHOOSE_EXAM), markup


async def exam(p: Press) -> View:
    """The exam chosen (for a walk-in, one given in the queue): the insurer."""
    found, context = draft(p.context, "patient"), p.context
    async with context.services.uow() as uow:
        chosen = (await department_setup(uow)).active_exam(p.args.id(0))
    if found["walk_in"] and not chosen.walk_in:
        raise NotWalkIn()
    DESK.put(
        context, DeskDraft(walk_in=found["walk_in"], patient=found["patient"], exam=chosen.id)
    )
    buttons = [
        (context._(label), routes.DESK_INSURER(code.value)) for code, label in INSURERS.items()
    ]
    menu = [(context._(TO_MENU), routes.STAFF_MENU())]
    return context._(ASK_INSURER), choices(buttons, extra=menu)


async def insurer(p: Press) -> View | None:
    """The insurer: then the prescription, typed or the paper one in hand."""
    code, context = p.args.word(0), p.context
    if code not in {i.value for i in Insurer}:
        return None
    found = draft(context, "patient", "exam")
    found["insurer"] = code
    DESK.put(context, found)
    ask(context, StaffInput(kind="desk_tracking"))
    menu = [(context._(TO_MENU), routes.STAFF_MENU())]
    return context._(ASK_PRESCRIPTION), choices(
        [(context._(PAPER), routes.DESK_PAPER())], extra=menu
    )


async def tracking_typed(t: Typed) -> View:
    """The e-prescription's tracking code (Persian digits fine): the safety questions."""
    found = draft(t.context, "patient", "exam", "insurer")
    found["tracking_code"] = parse_tracking_code(t.text)  # InvalidInput: type it again
    found.pop("paper", None)
    return await _questions(t.context, t.actor, found)


async def paper(p: Press) -> View:
    """The paper prescription is in reception's hands: the safety questions."""
    found = draft(p.context, "patient", "exam", "insurer")
    found["paper"] = True
    found.pop("tracking_code", None)
    return await _questions(p.context, p.actor, found)


async def _questions(context: BotContext, actor: Actor, found: DeskDraft) -> View:
    async with context.services.uow() as uow:
        patient = await get_patient(uow, found["patient"])
        chosen = (await department_setup(uow)).exam(found["exam"])
        questions = await questions_for_patient(uow, patient.national_code, chosen.code)
    found["questions"], found["answers"] = [q.id for q in questions], {}
    return await _next(context, actor, found)


async def _next(context: BotContext, actor: Actor, found: DeskDraft) -> View:
    """The next question not answered yet; when none is left, the time or the ticket."""
    DESK.put(context, found)
    answers = found.get("answers", {})
    pending = [q for q in found.get("questions", []) if str(q) not in answers]
    if not pending:
        if found["walk_in"]:
            return await walk_ins.issue(context, actor, found)
        return desk_times.channels(context)
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[pending[0]]
        who = patient_line(context, await get_patient(uow, found["patient"]))
    text = question.text_fa if context.lang == "fa" else question.text_en
    buttons = [
        (context._(YES), routes.DESK_ANSWER(question.id, 1)),
        (context._(NO), routes.DESK_ANSWER(question.id, 0)),
    ]
    shown = f"{who}\n\n{context._(QUESTION).format(question=text)}"
    return shown, choices(buttons, columns=2, extra=[(context._(TO_MENU), routes.STAFF_MENU())])


async def answer(p: Press) -> View | None:
    """A safety answer: the next question, or the end when it rules the exam out for now."""
    question_id, value, context = p.args.id(0), p.args.number(1), p.context
    found = draft(context, "patient", "exam", "insurer", "questions")
    if question_id not in found["questions"] or value not in (0, 1):
        return None  # no button of this booking asks it
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[question_id]
    if is_blocking(question, bool(value)):
        DESK.drop(context)
        return context._(ANSWER_BLOCKS), back(context)
    found.setdefault("answers", {})[str(question_id)] = bool(value)
    return await _next(context, p.actor, found)
