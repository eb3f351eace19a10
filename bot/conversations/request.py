"""New imaging request: modality, exam, safety questions, the referral, insurer, then booking.

The patient's side of ``bot.request_steps``: a conversation whose states are the request's
stages, each answer shown as the patient's own message (a question is a new message, the
pressed one keeps the answer given).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import request_steps as steps
from bot import routes
from bot.context import BotContext
from bot.drafts import REQUEST, REQUEST_FOR, RequestDraft
from bot.gate import patient
from bot.handlers.appointments import to_list
from bot.handlers.booking import send_days
from bot.handlers.common import END, Conversation, explain, hand_over, show
from bot.handlers.info import cancel
from bot.keyboards import NEW_REQUEST, all_menu_labels, choices, labels, main_menu, menu_filter
from bot.request_steps import ASK_SOURCE as ASK_SOURCE
from bot.request_steps import INSURERS as INSURERS
from bot.request_steps import MORE as MORE
from bot.request_steps import NO as NO
from bot.request_steps import PATIENT_ROUTES, Requester, Stage
from bot.request_steps import YES as YES
from bot.whose import chosen, label_of, labelled, members, whom
from clinic.errors import ClinicError, NotFound, Refusal, TrackingCodeInUse
from clinic.i18n import N_
from clinic.models import ReferralStatus
from clinic.patients import get_patient

if TYPE_CHECKING:
    from clinic.models import Patient
    from clinic.uow import UnitOfWork

MODALITY, EXAM, SCREENING, SOURCE, INSURER, CENTRE, WHOM = range(7)
STATES = {
    Stage.MODALITY: MODALITY,
    Stage.EXAM: EXAM,
    Stage.CENTRE: CENTRE,
    Stage.SCREENING: SCREENING,
    Stage.SOURCE: SOURCE,
    Stage.INSURER: INSURER,
}
MAX_TEXT = 200

CHOOSE_MODALITY = N_("Which kind of imaging is on your referral?")
BLOCKED = N_(
    "Thank you for telling us. Because of this answer the exam needs a conversation with the "
    "department first, for your safety. Please call {phone}."
)
ASK_INSURER = N_("Which insurance covers you?")
WAIT_REVIEW = N_(
    "Your referral has been received. Staff will review it and we will send you a message "
    "as soon as you can book."
)
USE_BUTTONS = N_("Please choose one of the buttons above, or send /cancel to stop.")
TO_APPOINTMENTS = N_("‹ My appointments")
START_AGAIN = N_("Sorry, I lost track of your request. Please start it again from the menu.")
FOR_WHOM = N_("Whom is this request for?")


class _Patient(Requester):
    """The patient sending a request for themself; the draft under ``REQUEST``."""

    routes = PATIENT_ROUTES
    choose_modality, blocked, ask_insurer = CHOOSE_MODALITY, BLOCKED, ASK_INSURER

    async def patient(self, uow: UnitOfWork) -> Patient:
        """The patient themself."""
        return await get_patient(uow, self.patient_id)

    def store(self, draft: RequestDraft, _stage: Stage) -> None:
        """Kept in the patient's data; the conversation's state is the stage."""
        REQUEST.put(self.context, draft)

    def forget(self) -> None:
        """The draft goes."""
        REQUEST.drop(self.context)


def _requester(context: BotContext) -> _Patient | None:
    """The patient of this chat sending the request, for themself or for the family member
    chosen; None when it is no patient's (any more), or no longer acts for that member."""
    me, wanted = patient(context), REQUEST_FOR.get(context)
    pid = chosen(context, wanted["patient"] if wanted else None)
    return None if me is None or pid is None else _Patient(context, me, pid)


def _state(r: Requester) -> int:
    """The conversation's state for where the request now waits."""
    return END if r.stage is None else STATES[r.stage]


async def _send(update: Update, context: BotContext, view: steps.View) -> None:
    """A new message in the chat (the pressed one keeps what it said)."""
    chat_id = update.effective_chat.id if update.effective_chat else 0
    await context.bot.send_message(chat_id, view[0], reply_markup=view[1])


async def new_request(update: Update, context: BotContext) -> int:
    """Start a request: whom it is for (when the account books for family members too),
    then the modality."""
    REQUEST_FOR.drop(context)
    message, r = update.effective_message, _requester(context)
    assert message is not None
    if r is None:
        await message.reply_text(context._(N_("Please send /start first.")))
        return END
    family = await members(context)
    if family:
        REQUEST.put(context, {})
        markup = whom(context, family, routes.REQUEST_FOR)
        await message.reply_text(context._(FOR_WHOM), reply_markup=markup)
        return WHOM
    return await _begin(update, context, r)


async def for_whom(update: Update, context: BotContext) -> int:
    """Keep whom the request is for (someone the account acts for), then the modality."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args = routes.REQUEST_FOR.read(query.data)
    pid = chosen(context, args.id(0)) if args else None
    if pid is None:
        return WHOM  # an old or forged press: the question stays
    REQUEST_FOR.put(context, {"patient": pid})
    r = _requester(context)
    assert r is not None
    await query.edit_message_reply_markup(None)
    return await _begin(update, context, r)


async def _begin(update: Update, context: BotContext, r: _Patient) -> int:
    """The first question (labelled with whose the request is, for a family member)."""
    try:
        text, markup = await steps.begin(r)
    except ClinicError as error:
        r.drop()
        await _ended(update, context, explain(error, context))
        return END
    async with context.services.uow().reading() as uow:
        line = await label_of(uow, context, r.patient_id)
    await _send(update, context, (labelled(text, line), markup))
    return _state(r)


async def modality(update: Update, context: BotContext) -> int:
    """Show the exams of the chosen modality, a page at a time."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, r = routes.MODALITY.read(query.data), _requester(context)
    view = await steps.exams(r, args.word(0), args.page(1)) if args and r else None
    if r is None or view is None:
        return MODALITY
    await show(update, context, view)
    return _state(r)


async def exam(update: Update, context: BotContext) -> int:
    """Remember the exam and ask its safety questions that apply to this patient."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, r = routes.EXAM.read(query.data), _requester(context)
    if args is None or r is None:
        return EXAM
    try:
        view = await steps.choose_exam(r, args.id(0))
    except ClinicError as error:
        r.drop()
        see = [to_list(context, r.patient_id)]  # theirs, for a family member
        markup = choices([], extra=see) if isinstance(error, Refusal) else None
        await query.edit_message_text(explain(error, context), reply_markup=markup)
        return END
    await query.edit_message_reply_markup(None)
    await _send(update, context, view)
    return _state(r)


async def centre(update: Update, context: BotContext) -> int:
    """Remember the centre chosen and ask the safety questions."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, draft, r = routes.CENTRE.read(query.data), REQUEST.get(context), _requester(context)
    if args is None or draft is None or r is None:
        return CENTRE
    view = await steps.choose_centre(r, draft, args.id(0))
    if view is None:
        return CENTRE  # not a centre of this exam: an old or forged press, ignored
    await query.edit_message_reply_markup(None)
    await _send(update, context, view)
    return _state(r)


async def screening_answer(update: Update, context: BotContext) -> int:
    """Record one answer; an answer that rules the exam out ends the request kindly."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, draft, r = routes.SCREENING.read(query.data), REQUEST.get(context), _requester(context)
    if args is None or draft is None or r is None:
        return SCREENING
    try:
        answered = await steps.answer(r, draft, args.id(0), args.number(1))
    except NotFound:  # not an answer: the press is ignored, as any malformed one
        answered = None
    if answered is None:
        return SCREENING
    await query.edit_message_text(answered.said)
    if answered.blocked is not None:
        await _ended(update, context, answered.blocked)
        return END
    await _send(update, context, await steps.ask_next(r, draft))
    return _state(r)


async def prescription(update: Update, context: BotContext) -> int:
    """Accept an e-prescription tracking code (Persian digits fine), or a photo or PDF of the
    paper prescription (stored through the clinic core)."""
    message, draft, r = update.message, REQUEST.get(context), _requester(context)
    assert message is not None
    if draft is None or r is None:
        return await _lost(update, context)
    try:
        await steps.take_prescription(r, draft, message, (message.text or "")[:MAX_TEXT])
    except ClinicError as error:
        await message.reply_text(explain(error, context))
        return SOURCE
    view = await steps.ask_insurer(r, draft)
    if view is None:
        return await _submit(update, context, r, draft)
    await message.reply_text(view[0], reply_markup=view[1])
    return _state(r)


async def insurer(update: Update, context: BotContext) -> int:
    """Record the insurer and submit."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, draft, r = routes.INSURER.read(query.data), REQUEST.get(context), _requester(context)
    if args is None or draft is None or r is None or not steps.choose_insurer(draft, args.word(0)):
        return INSURER
    await query.edit_message_reply_markup(None)
    return await _submit(update, context, r, draft)


async def _submit(update: Update, context: BotContext, r: Requester, draft: RequestDraft) -> int:
    try:
        referral = await steps.submit(r, draft)
    except TrackingCodeInUse as error:
        # Everything else stays: the patient checks the code, or sends a photo instead.
        await _send(update, context, steps.source_again(r, error))
        return SOURCE
    except ClinicError as error:
        await _ended(update, context, explain(error, context))
        return END
    if referral is None:
        return await _lost(update, context)
    if referral.status == ReferralStatus.SUBMITTED:
        async with context.services.uow().reading() as uow:
            line = await label_of(uow, context, referral.patient_id)
        await _ended(update, context, labelled(context._(WAIT_REVIEW), line))
        return END
    await send_days(update, context, "ref", referral.id)
    return END


async def _ended(update: Update, context: BotContext, text: str) -> None:
    """The request is over: ``text`` and the main menu back."""
    chat_id = update.effective_chat.id if update.effective_chat else 0
    await context.bot.send_message(chat_id, text, reply_markup=main_menu(context.lang))


async def _lost(update: Update, context: BotContext) -> int:
    """The draft is gone or incomplete: say so and end, rather than guess."""
    REQUEST.drop(context)
    await _ended(update, context, context._(START_AGAIN))
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
    REQUEST.drop(context)
    await hand_over(update, context, "request")
    return END


Step = Callable[[Update, BotContext], Coroutine[Any, Any, int | None]]


def _drafted(step: Step) -> Step:
    """Run ``step`` only while the request's draft exists (/start drops it); else let go."""

    async def guarded(update: Update, context: BotContext) -> int | None:
        if REQUEST.get(context) is None:
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
            CENTRE: [
                CallbackQueryHandler(_drafted(centre), pattern=routes.CENTRE.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            SCREENING: [
                CallbackQueryHandler(_drafted(screening_answer), pattern=routes.SCREENING.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            SOURCE: [
                MessageHandler(text, _drafted(prescription)),
                MessageHandler(filters.PHOTO | filters.Document.ALL, _drafted(prescription)),
                MessageHandler(stray, _drafted(ask_source_again)),
            ],
            INSURER: [
                CallbackQueryHandler(_drafted(insurer), pattern=routes.INSURER.pattern),
                MessageHandler(stray, _drafted(use_buttons)),
            ],
            WHOM: [
                CallbackQueryHandler(_drafted(for_whom), pattern=routes.REQUEST_FOR.pattern),
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
