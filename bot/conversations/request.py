"""New imaging request: modality, exam, safety questions, the referral, insurer, then booking."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import routes
from bot.callbacks import unpack
from bot.context import BotContext
from bot.handlers.booking import send_days
from bot.handlers.common import END, Conversation, explain, hand_over
from bot.handlers.info import cancel
from bot.keyboards import (
    NEW_REQUEST,
    all_menu_labels,
    choices,
    labels,
    main_menu,
    menu_filter,
    paged,
)
from bot.prescriptions import fetch_prescription, stored_file
from bot.views import MODALITY_NAMES, digits, name
from clinic.actors import Actor
from clinic.catalogue import exams_for_modality
from clinic.department_setup import department_setup
from clinic.errors import ClinicError, Refusal, TrackingCodeInUse
from clinic.i18n import N_
from clinic.models import Insurer, ReferralStatus
from clinic.open_referrals import check_may_request
from clinic.patients import get_patient
from clinic.referrals import (
    ReferralRequest,
    answers_by_code,
    is_blocking,
    parse_tracking_code,
    screening_for,
    submit_referral,
)

MODALITY, EXAM, SCREENING, SOURCE, INSURER = range(5)
DRAFT = "request"
MAX_TEXT = 200

CHOOSE_MODALITY = N_("Which kind of imaging is on your referral?")
CHOOSE_EXAM = N_("Which exam?")
YES, NO = N_("Yes"), N_("No")
BLOCKED = N_(
    "Thank you for telling us. Because of this answer the exam needs a conversation with the "
    "department first, for your safety. Please call {phone}."
)
ASK_SOURCE = N_(
    "Please type the e-prescription tracking code, or send a photo (or PDF) of the paper "
    "prescription."
)
ASK_INSURER = N_("Which insurance covers you?")
INSURERS = {
    Insurer.TAMIN: N_("Tamin Ejtemaei (social security)"),
    Insurer.SALAMAT: N_("Salamat (Iran Health Insurance)"),
    Insurer.ARMED_FORCES: N_("Armed forces"),
    Insurer.OTHER: N_("Other insurance"),
    Insurer.NONE: N_("No insurance"),
}
WAIT_REVIEW = N_(
    "Your referral has been received. Staff will review it and we will send you a message "
    "as soon as you can book."
)
TOO_LARGE = N_("The file must be smaller than {mb} MB.")
NO_EXAMS = N_("There are no exams of this kind to book through the bot right now.")
MORE, BACK = N_("More ›"), N_("‹ Back")
USE_BUTTONS = N_("Please choose one of the buttons above, or send /cancel to stop.")
TO_APPOINTMENTS = N_("‹ My appointments")
START_AGAIN = N_("Sorry, I lost track of your request. Please start it again from the menu.")


async def new_request(update: Update, context: BotContext) -> int:
    """Start a request: ask for the modality."""
    assert update.effective_message is not None
    pid = context.visitor.patient_id
    if pid is None:
        await update.effective_message.reply_text(context._(N_("Please send /start first.")))
        return END
    try:
        async with context.services.uow() as uow:
            await check_may_request(uow, Actor.patient(pid), pid)  # before any question
    except ClinicError as error:
        menu = main_menu(context.lang)
        await update.effective_message.reply_text(explain(error, context), reply_markup=menu)
        return END
    context.data[DRAFT] = {}
    buttons = [(context._(label), routes.MODALITY(code)) for code, label in MODALITY_NAMES.items()]
    await update.effective_message.reply_text(
        context._(CHOOSE_MODALITY), reply_markup=choices(buttons, columns=2)
    )
    return MODALITY


async def modality(update: Update, context: BotContext) -> int:
    """Show the exams of the chosen modality, a page at a time."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    if choice is None or not choice.args or choice.args[0] not in MODALITY_NAMES:
        return MODALITY
    async with context.services.uow() as uow:
        exams = await exams_for_modality(uow, choice.args[0])
    if not exams:
        await query.edit_message_text(context._(NO_EXAMS))
        return MODALITY
    items = [(name(e, context.lang), routes.EXAM(e.id)) for e in exams]
    page = choice.int_arg(1) or 0
    markup = paged(
        items, page, routes.MODALITY, choice.args[0], more=context._(MORE), back=context._(BACK)
    )
    await query.edit_message_text(context._(CHOOSE_EXAM), reply_markup=markup)
    return EXAM


async def exam(update: Update, context: BotContext) -> int:
    """Remember the exam and ask its safety questions that apply to this patient."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    exam_id, pid = (choice.int_arg(0) if choice else None), context.visitor.patient_id
    if exam_id is None or pid is None:
        return EXAM
    try:
        async with context.services.uow() as uow:
            await check_may_request(uow, Actor.patient(pid), pid, exam_id)
            questions = await screening_for(uow, exam_id, pid)
    except ClinicError as error:
        context.data.pop(DRAFT, None)
        see = [(context._(TO_APPOINTMENTS), routes.APPOINTMENTS())]
        markup = choices([], extra=see) if isinstance(error, Refusal) else None
        await query.edit_message_text(explain(error, context), reply_markup=markup)
        return END
    context.data[DRAFT] = {
        "exam_id": exam_id,
        "questions": [q.id for q in questions],
        "answers": {},
    }
    await query.edit_message_reply_markup(None)
    return await _next_question(update, context)


async def _next_question(update: Update, context: BotContext) -> int:
    draft = context.data[DRAFT]
    pending = [q for q in draft["questions"] if str(q) not in draft["answers"]]
    chat_id = update.effective_chat.id if update.effective_chat else 0
    if not pending:
        await context.bot.send_message(chat_id, context._(ASK_SOURCE))
        return SOURCE
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[pending[0]]
    text = question.text_fa if context.lang == "fa" else question.text_en
    buttons = [
        (context._(YES), routes.SCREENING(question.id, 1)),
        (context._(NO), routes.SCREENING(question.id, 0)),
    ]
    await context.bot.send_message(chat_id, text, reply_markup=choices(buttons, columns=2))
    return SCREENING


async def screening_answer(update: Update, context: BotContext) -> int:
    """Record one answer; an answer that rules the exam out ends the request kindly."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    draft = context.data.get(DRAFT) or {}
    qid, answer = (choice.int_arg(0), choice.int_arg(1)) if choice else (None, None)
    if qid is None or answer not in (0, 1) or qid not in draft.get("questions", []):
        return SCREENING
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[qid]
    assert query.message is not None
    asked = question.text_fa if context.lang == "fa" else question.text_en
    await query.edit_message_text(f"{asked}\n— {context._(YES if answer else NO)}")
    if is_blocking(question, bool(answer)):
        context.data.pop(DRAFT, None)
        phone = digits(context.services.department.phone, context.lang)
        await context.bot.send_message(
            query.message.chat.id,
            context._(BLOCKED).format(phone=phone),
            reply_markup=main_menu(context.lang),
        )
        return END
    draft["answers"][str(qid)] = bool(answer)
    return await _next_question(update, context)


async def tracking_code(update: Update, context: BotContext) -> int:
    """Accept an e-prescription tracking code (Persian digits fine)."""
    assert update.message is not None and update.message.text is not None
    try:
        code = parse_tracking_code(update.message.text[:MAX_TEXT])
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return SOURCE
    context.data[DRAFT]["tracking_code"] = code
    return await _insurer_or_submit(update, context)


async def prescription_file(update: Update, context: BotContext) -> int:
    """Accept a photo or PDF of the paper prescription; store it through the clinic core."""
    assert update.message is not None
    try:
        stored = await fetch_prescription(update.message, context)
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return SOURCE
    context.data[DRAFT]["file"] = stored
    return await _insurer_or_submit(update, context)


async def _insurer_or_submit(update: Update, context: BotContext) -> int:
    draft = context.data[DRAFT]
    async with context.services.uow() as uow:
        patient = await get_patient(uow, context.visitor.patient_id or 0)
    if patient.insurer:
        draft.setdefault("insurer", patient.insurer)  # remembered, not asked twice
    if "insurer" in draft:  # saved, or already answered before a code was refused
        return await _submit(update, context)
    buttons = [(context._(label), routes.INSURER(code.value)) for code, label in INSURERS.items()]
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context._(ASK_INSURER), reply_markup=choices(buttons)
    )
    return INSURER


async def insurer(update: Update, context: BotContext) -> int:
    """Record the insurer and submit."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    if choice is None or not choice.args or choice.args[0] not in {i.value for i in Insurer}:
        return INSURER
    context.data[DRAFT]["insurer"] = choice.args[0]
    await query.edit_message_reply_markup(None)
    return await _submit(update, context)


async def _submit(update: Update, context: BotContext) -> int:
    draft: dict[str, Any] = context.data.pop(DRAFT, {})
    patient_id = context.visitor.patient_id
    assert patient_id is not None
    chat_id = update.effective_chat.id if update.effective_chat else 0
    if "exam_id" not in draft or "insurer" not in draft:
        await context.bot.send_message(
            chat_id, context._(START_AGAIN), reply_markup=main_menu(context.lang)
        )
        return END
    try:
        async with context.services.uow() as uow:
            codes = await answers_by_code(uow, draft.get("answers", {}))
            request = ReferralRequest(
                patient_id,
                draft["exam_id"],
                draft["insurer"],
                codes,
                tracking_code=draft.get("tracking_code"),
                file=stored_file(draft.get("file")),
            )
            referral = await submit_referral(uow, Actor.patient(patient_id), request)
            await uow.commit()
    except TrackingCodeInUse as error:
        # Everything else stays: the patient checks the code, or sends a photo instead.
        draft.pop("tracking_code", None)
        context.data[DRAFT] = draft
        await context.bot.send_message(
            chat_id, f"{explain(error, context)}\n\n{context._(ASK_SOURCE)}"
        )
        return SOURCE
    except ClinicError as error:
        await context.bot.send_message(
            chat_id, explain(error, context), reply_markup=main_menu(context.lang)
        )
        return END
    if referral.status == ReferralStatus.SUBMITTED:
        await context.bot.send_message(
            chat_id, context._(WAIT_REVIEW), reply_markup=main_menu(context.lang)
        )
        return END
    await send_days(update, context, "ref", referral.id)
    return END


async def use_buttons(update: Update, context: BotContext) -> None:
    """Typed text, a sticker or the like where a button is expected: point at the buttons."""
    assert update.message is not None
    await update.message.reply_text(context._(USE_BUTTONS))


async def ask_source_again(update: Update, context: BotContext) -> None:
    """Neither a code nor a photo or PDF where the referral is expected: ask again."""
    assert update.message is not None
    await update.message.reply_text(context._(ASK_SOURCE))


async def leave(update: Update, context: BotContext) -> int:
    """Another menu button mid-request: drop the request, then do what the button says."""
    context.data.pop(DRAFT, None)
    await hand_over(update, context, "request")
    return END


Step = Callable[[Update, BotContext], Coroutine[Any, Any, int | None]]


def _drafted(step: Step) -> Step:
    """Run ``step`` only while the request's draft exists (/start drops it); else let go."""

    async def guarded(update: Update, context: BotContext) -> int | None:
        if DRAFT not in context.data:
            await hand_over(update, context, "request")
            return END
        return await step(update, context)

    return guarded


def build_request() -> ConversationHandler[BotContext]:
    """The request conversation, persisted so a restart keeps the answers given so far.

    A referral forwarded from the doctor's chat is accepted: it is a document about the
    patient, not an answer about who they are.
    """
    other_menu = filters.Text(sorted(set(all_menu_labels()) - labels(NEW_REQUEST)))
    text = filters.TEXT & ~filters.COMMAND & ~other_menu
    stray = ~filters.COMMAND & ~other_menu
    return Conversation(
        entry_points=[
            MessageHandler(menu_filter(NEW_REQUEST), new_request),
            CommandHandler("request", new_request),
        ],
        states={
            MODALITY: [
                CallbackQueryHandler(_drafted(modality), pattern=routes.MODALITY.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            EXAM: [
                CallbackQueryHandler(_drafted(exam), pattern=routes.EXAM.pattern),
                CallbackQueryHandler(_drafted(modality), pattern=routes.MODALITY.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            SCREENING: [
                CallbackQueryHandler(_drafted(screening_answer), pattern=routes.SCREENING.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            SOURCE: [
                MessageHandler(text, _drafted(tracking_code)),
                MessageHandler(filters.PHOTO | filters.Document.ALL, _drafted(prescription_file)),
                MessageHandler(stray, _drafted(ask_source_again)),
            ],
            INSURER: [
                CallbackQueryHandler(_drafted(insurer), pattern=routes.INSURER.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            # /start is the registration's entry point (it comes first): it drops the draft,
            # and _drafted lets the next update go.
            MessageHandler(other_menu, leave),
        ],
        name="request",
        persistent=True,
        allow_reentry=True,
    )
