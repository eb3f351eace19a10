"""/start: the privacy notice, the verified phone, national code, the SMS code, name, birth
year, sex.

A national code on record with the number just shared is linked at once (the record is this
phone's). Any other (a new one, or one on record with another mobile) gets one answer: a
one-time code went by SMS (to the mobile on record, else to the number shared). With the right
code a record on file is linked (its mobile is told), a new one is registered.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import registration_steps as steps
from bot import routes
from bot.drafts import REGISTRATION
from bot.handlers.common import END, Conversation, explain
from bot.handlers.deeplinks import open_payload
from bot.handlers.info import cancel
from bot.keyboards import contact_keyboard, main_menu
from bot.registration_steps import FEMALE as FEMALE
from bot.registration_steps import MALE as MALE
from bot.registration_steps import Registrar
from bot.whose import chat_user
from clinic.actors import Actor
from clinic.claims import claim_own_record
from clinic.errors import ClinicError, InvalidInput
from clinic.i18n import N_
from clinic.identity_checks import Asker, check_code, send_code
from clinic.models import ActorKind
from clinic.patients import claim_by_verified_mobile, get_patient, link_chat_account

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from bot.context import BotContext
    from bot.drafts import RegistrationDraft
    from bot.registration_steps import TypedField
    from clinic.uow import UnitOfWork

ORDER = ("mobile", "national_code", "code", "first_name", "last_name", "birth_year", "sex")
PHONE, NATIONAL_CODE, FIRST_NAME, LAST_NAME, BIRTH_YEAR, SEX, CODE = range(7)
# The state of each step (numbers kept across releases: persisted conversations hold them).
STATES = MappingProxyType(
    {
        "mobile": PHONE, "national_code": NATIONAL_CODE, "code": CODE, "first_name": FIRST_NAME,
        "last_name": LAST_NAME, "birth_year": BIRTH_YEAR, "sex": SEX,
    }
)  # fmt: skip
MAX_TEXT = 200

WELCOME = N_(
    "Welcome to Radyar, the booking service of {department}.\n\n"
    "Here you can send your imaging referral, book a time, get the preparation instructions "
    "and learn when your results are ready.\n\n"
    "Privacy: we keep your national code, mobile number, name, birth year and referral only "
    "to book and run your exams, and we share them with no one outside the hospital. "
    "Our messages never carry medical details.\n\n"
    "If you agree, please share your mobile number with the button below."
)
SHARE = N_("✅ I agree, share my number")
WORKER_HINT = N_("You are linked as a health worker. Send /worker to open your menu.")
STAFF_HINT = N_("You are linked as staff. Send /staff to open your menu.")
OWN_NUMBER_ONLY = N_("Please share your own number with the button below.")
IRANIAN_ONLY = N_(
    "We can only register an Iranian mobile number. Please call the department for help."
)
ASK_NATIONAL_CODE = N_("Thank you. Please write your 10-digit national code.")
CODE_SENT = N_(
    "To protect patients' records, we have sent a 5-digit code by text message to the mobile "
    "on record for this national code (for a new record, to the number you shared). Please "
    "type it here."
)
ASK_FIRST_NAME = N_("Please write your first name.")
ASK_LAST_NAME = N_("Please write your last name.")
ASK_BIRTH_YEAR = N_("Please write your year of birth (Persian calendar), like 1365.")
ASK_SEX = N_("Please choose your sex (needed for safety questions before some exams).")
DONE = N_("Registration is complete, {name}. What would you like to do?")
WELCOME_BACK = N_("Welcome back, {name}. What would you like to do?")
LINKED = N_("Your record was found and linked to this account, {name}.")
WRITE_IT = N_("Please write your answer as a text message.")
NOT_FORWARDED = N_("Please type your answer yourself; I cannot accept a forwarded message here.")
LOST = N_("Sorry, I lost part of your answers. Please send /start to begin again.")
FIRST_LETTERS = N_("Please write the first name in letters (at most {n}).")
LAST_LETTERS = N_("Please write the last name in letters (at most {n}).")


class _Patient(Registrar):
    """The patient registering themself: their own number first (shared with the button),
    the draft under ``REGISTRATION``, this chat account linked to the new record."""

    order = ORDER
    questions = MappingProxyType(
        {
            "national_code": ASK_NATIONAL_CODE,
            "code": CODE_SENT,
            "first_name": ASK_FIRST_NAME,
            "last_name": ASK_LAST_NAME,
            "birth_year": ASK_BIRTH_YEAR,
            "sex": ASK_SEX,
        }
    )
    not_letters = MappingProxyType({"first_name": FIRST_LETTERS, "last_name": LAST_LETTERS})
    sex_route = routes.SEX
    code_route = routes.CODE_AGAIN

    def __init__(self, update: Update, context: BotContext) -> None:
        super().__init__(context, Actor(ActorKind.PATIENT))  # someone not registered yet
        self.update = update

    @property
    def asker(self) -> Asker:
        """This chat account."""
        return Asker.of_chat(chat_user(self.context))

    def store(self, draft: RegistrationDraft, _step: str) -> None:
        """Kept in the person's data; the conversation's state is the step."""
        REGISTRATION.put(self.context, draft)

    def forget(self) -> None:
        """The draft goes."""
        REGISTRATION.drop(self.context)

    async def registered(self, uow: UnitOfWork, patient_id: int) -> None:
        """This chat account is the new patient's own."""
        await _link(self.context, uow, patient_id, self.update)


def _state(r: Registrar) -> int:
    """The conversation's state for the step the registration now waits for."""
    return END if r.asking is None else STATES[r.asking]


async def start(update: Update, context: BotContext) -> int:
    """Greet: a returning patient goes to the menu, a new one sees the privacy notice.

    /start begins afresh: every draft is dropped, so a conversation that was running ends
    at its next step (each checks that its draft is still there).
    """
    assert update.message is not None
    for key in list(context.data):
        if key != "lang":
            context.data.pop(key)
    if context.args:
        context.data["payload"] = context.args[0][:64]
    if context.visitor.patient_id is not None:
        return await _to_menu(update, context, WELCOME_BACK)
    if context.visitor.worker is not None or context.visitor.staff is not None:
        # A linked worker or staff member is not asked to register as a patient.
        hint = WORKER_HINT if context.visitor.worker is not None else STAFF_HINT
        await update.message.reply_text(context._(hint))
        return END
    department = context.services.department.text("name", context.lang)
    await update.message.reply_text(
        context._(WELCOME).format(department=department),
        reply_markup=contact_keyboard(context._(SHARE)),
    )
    REGISTRATION.put(context, {})
    return PHONE


async def _to_menu(update: Update, context: BotContext, greeting: str) -> int:
    assert update.effective_message is not None
    async with context.services.uow() as uow:
        patient = await get_patient(uow, context.visitor.patient_id or 0)
    await update.effective_message.reply_text(
        context._(greeting).format(name=patient.first_name), reply_markup=main_menu(context.lang)
    )
    payload = context.data.pop("payload", None)
    if payload:
        await open_payload(update, context, payload)
    return END


async def contact(update: Update, context: BotContext) -> int:
    """Accept the user's own contact only, as the verified mobile."""
    assert update.message is not None and update.message.contact is not None
    shared = update.message.contact
    if update.effective_user is None or shared.user_id != update.effective_user.id:
        await update.message.reply_text(context._(OWN_NUMBER_ONLY))
        return PHONE
    r = _Patient(update, context)
    try:
        answer = steps.valid(r, "mobile", shared.phone_number)
    except InvalidInput:
        await update.message.reply_text(
            context._(IRANIAN_ONLY), reply_markup=ReplyKeyboardRemove()
        )
        return END
    text, _ = steps.answered(r, _draft(context), answer)
    await update.message.reply_text(text, reply_markup=ReplyKeyboardRemove())
    return _state(r)


async def not_contact(update: Update, context: BotContext) -> int:
    """Anything but the contact button while we wait for the phone number."""
    assert update.message is not None
    await update.message.reply_text(
        context._(OWN_NUMBER_ONLY), reply_markup=contact_keyboard(context._(SHARE))
    )
    return PHONE


async def national_code(update: Update, context: BotContext) -> int:
    """Validate the national code: on record with the shared mobile, it is linked; anything
    else, the one-time code is sent (the same answer, whether it is on record or not)."""
    assert update.message is not None and update.message.text is not None
    draft, r = _draft(context), _Patient(update, context)
    if "mobile" not in draft:
        return await _lost(update, context)
    try:
        answer = steps.valid(r, "national_code", update.message.text[:MAX_TEXT])
        async with context.services.uow() as uow:
            existing = await claim_by_verified_mobile(
                uow, answer["national_code"], draft["mobile"]
            )
            check = None
            if existing is not None:
                await _link(context, uow, existing.id, update)
            else:
                check = await steps.counted(uow, send_code(
                    uow, r.asker, "self", answer["national_code"],
                    mobile_if_new=draft["mobile"], language=context.lang,
                ))  # fmt: skip
            await uow.commit()
    except ClinicError as error:
        await update.message.reply_text(steps.refusal(error, context))
        return NATIONAL_CODE
    if existing is not None:
        context.visitor.patient_id = existing.id
        r.drop()
        return await _to_menu(update, context, LINKED)
    draft["check"], draft["confirmed"] = check or 0, False
    text, _ = steps.answered(r, draft, answer)
    await _with_button(update, context, r, draft, text)
    return _state(r)


async def code(update: Update, context: BotContext) -> int:
    """The one-time code: right, a record on file is linked (its mobile told), a new one's
    questions follow; wrong, tries left (the button sends a new code)."""
    assert update.message is not None and update.message.text is not None
    draft, r = _draft(context), _Patient(update, context)
    check, who = draft.get("check"), chat_user(context)
    if not check or "national_code" not in draft:
        return await _lost(update, context)
    assert update.effective_chat is not None
    try:
        async with context.services.uow() as uow:
            verified = await steps.counted(
                uow, check_code(uow, r.asker, check, update.message.text)
            )
            if verified.patient_id is not None:
                claimed = await claim_own_record(uow, who, update.effective_chat.id, check)
            await uow.commit()
    except ClinicError as error:
        await _with_button(update, context, r, draft, steps.refusal(error, context))
        return CODE
    await _unbutton(context, draft.pop("prompt", None))  # the code is right: no more sending
    if verified.patient_id is not None:
        context.visitor.patient_id = claimed.id
        r.drop()
        return await _to_menu(update, context, LINKED)
    draft["confirmed"] = True
    text, markup = steps.ask(r, draft, "first_name")
    await update.message.reply_text(text, reply_markup=markup)
    return _state(r)


async def code_again(update: Update, context: BotContext) -> int:
    """Send a new one-time code (a minute after the last, a few a day)."""
    query = update.callback_query
    assert query is not None and update.effective_message is not None
    await query.answer()
    draft, r = _draft(context), _Patient(update, context)
    check = draft.get("check")
    if not check or draft.get("confirmed"):
        return await _lost(update, context)
    text = await steps.send_again(context, r.asker, check)
    await _with_button(update, context, r, draft, text)
    return CODE


async def _with_button(
    update: Update, context: BotContext, r: _Patient, draft: RegistrationDraft, text: str
) -> None:
    """``text`` with the button that sends the code again, which only the newest message
    carries (the one before loses it)."""
    assert update.effective_message is not None
    sent = await update.effective_message.reply_text(text, reply_markup=r.keyboard("code"))
    await _unbutton(context, draft.get("prompt"))
    draft["prompt"] = sent.message_id


async def _unbutton(context: BotContext, message_id: int | None) -> None:
    """Take the send-again button off an earlier message (gone or unchanged: nothing to do)."""
    if message_id is None or context.visitor.user_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(context.visitor.user_id, message_id)
    except BadRequest:  # deleted by the user, or already without the button
        return


async def first_name(update: Update, context: BotContext) -> int:
    """Keep the first name (checked with the rest at the end)."""
    return await _typed(update, context, "first_name")


async def last_name(update: Update, context: BotContext) -> int:
    """Keep the last name."""
    return await _typed(update, context, "last_name")


async def birth_year(update: Update, context: BotContext) -> int:
    """Validate the Jalali birth year (Persian digits accepted), then ask the sex."""
    return await _typed(update, context, "birth_year")


async def _typed(update: Update, context: BotContext, field: TypedField) -> int:
    """Keep the typed answer for ``field`` and ask the next question (again when refused)."""
    assert update.message is not None and update.message.text is not None
    r = _Patient(update, context)
    try:
        text, markup = steps.take(r, _draft(context), field, update.message.text[:MAX_TEXT])
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return STATES[field]
    await update.message.reply_text(text, reply_markup=markup)
    return _state(r)


async def sex(update: Update, context: BotContext) -> int:
    """Register the patient with everything collected, and link this chat account."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, draft, r = routes.SEX.read(query.data), _draft(context), _Patient(update, context)
    chosen = steps.sex_of(args.word(0) if args else None)
    if chosen is None:
        return SEX
    draft["sex"] = chosen
    found = steps.details(draft, context.lang)
    if found is None:
        await query.edit_message_reply_markup(None)
        return await _lost(update, context)
    try:
        patient = await steps.register(r, found, r.proof(draft, "self"))
    except ClinicError as error:
        await query.edit_message_text(explain(error, context))
        r.drop()
        return END
    r.drop()
    context.visitor.patient_id = patient.id
    await query.edit_message_reply_markup(None)
    return await _to_menu(update, context, DONE)


async def _link(context: BotContext, uow: UnitOfWork, patient_id: int, update: Update) -> None:
    assert update.effective_user is not None and update.effective_chat is not None
    await link_chat_account(
        uow,
        patient_id,
        context.services.platform,
        update.effective_user.id,
        update.effective_chat.id,
    )


async def ask_in_writing(update: Update, context: BotContext) -> None:
    """A sticker, photo or voice where a typed answer is due; forwarded text is not the user's."""
    assert update.message is not None
    forwarded = update.message.forward_origin is not None
    await update.message.reply_text(context._(NOT_FORWARDED if forwarded else WRITE_IT))


async def ask_sex_again(update: Update, context: BotContext) -> None:
    """Anything but a button while we wait for the sex: show the two buttons again."""
    assert update.message is not None
    text, markup = steps.question(_Patient(update, context), "sex")
    await update.message.reply_text(text, reply_markup=markup)


async def _lost(update: Update, context: BotContext) -> int:
    """The draft is gone (it should not be): say so and start over rather than guess."""
    assert update.effective_message is not None
    REGISTRATION.drop(context)
    await update.effective_message.reply_text(context._(LOST), reply_markup=ReplyKeyboardRemove())
    return END


def _draft(context: BotContext) -> RegistrationDraft:
    """The registration's draft, a fresh one when there is none."""
    return REGISTRATION.get(context) or REGISTRATION.put(context, {})


def build_registration() -> ConversationHandler[BotContext]:
    """/start and the registration steps, persisted so a restart keeps the progress.

    Only the user's own typed text counts as an answer (not a forwarded message), and only
    their own contact shared with the button as the phone number.
    """
    own_text = filters.TEXT & ~filters.COMMAND & ~filters.FORWARDED
    other = ~filters.COMMAND

    def typed(callback: Callable[[Update, BotContext], Coroutine[Any, Any, int]]) -> list[Any]:
        return [MessageHandler(own_text, callback), MessageHandler(other, ask_in_writing)]

    return Conversation(
        entry_points=[CommandHandler("start", start, filters.ChatType.PRIVATE)],
        states={
            PHONE: [
                MessageHandler(filters.CONTACT & ~filters.FORWARDED, contact),
                MessageHandler(other, not_contact),
            ],
            NATIONAL_CODE: typed(national_code),
            CODE: [
                *typed(code),
                CallbackQueryHandler(code_again, pattern=routes.CODE_AGAIN.pattern),
            ],
            FIRST_NAME: typed(first_name),
            LAST_NAME: typed(last_name),
            BIRTH_YEAR: typed(birth_year),
            SEX: [
                CallbackQueryHandler(sex, pattern=routes.SEX.pattern),
                MessageHandler(other, ask_sex_again),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name="registration",
        persistent=True,
        allow_reentry=True,
    )
