"""/start: the privacy notice, the verified phone, national code, name, birth year, sex."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jdatetime
from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import routes
from bot.callbacks import unpack
from bot.handlers.common import END, Conversation, explain
from bot.handlers.deeplinks import open_payload
from bot.handlers.info import cancel
from bot.keyboards import choices, contact_keyboard, main_menu
from clinic.actors import Actor
from clinic.errors import ClinicError, InvalidInput
from clinic.i18n import N_
from clinic.identity import parse_mobile, parse_national_code
from clinic.jalali import to_tehran
from clinic.models import ActorKind
from clinic.patients import (
    PatientDetails,
    claim_by_verified_mobile,
    get_patient,
    link_chat_account,
    parse_birth_year,
    register_patient,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from bot.context import BotContext
    from clinic.uow import UnitOfWork

PHONE, NATIONAL_CODE, FIRST_NAME, LAST_NAME, BIRTH_YEAR, SEX = range(6)
DRAFT = "registration"
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
ASK_FIRST_NAME = N_("Please write your first name.")
ASK_LAST_NAME = N_("Please write your last name.")
ASK_BIRTH_YEAR = N_("Please write your year of birth (Persian calendar), like 1365.")
ASK_SEX = N_("Please choose your sex (needed for safety questions before some exams).")
FEMALE, MALE = N_("Female"), N_("Male")
DONE = N_("Registration is complete, {name}. What would you like to do?")
WELCOME_BACK = N_("Welcome back, {name}. What would you like to do?")
LINKED = N_("Your record was found and linked to this account, {name}.")
WRITE_IT = N_("Please write your answer as a text message.")
NOT_FORWARDED = N_("Please type your answer yourself; I cannot accept a forwarded message here.")
LOST = N_("Sorry, I lost part of your answers. Please send /start to begin again.")


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
    context.data[DRAFT] = {}
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
    try:
        mobile = parse_mobile(shared.phone_number)
    except InvalidInput:
        await update.message.reply_text(
            context._(IRANIAN_ONLY), reply_markup=ReplyKeyboardRemove()
        )
        return END
    _draft(context)["mobile"] = mobile
    await update.message.reply_text(
        context._(ASK_NATIONAL_CODE), reply_markup=ReplyKeyboardRemove()
    )
    return NATIONAL_CODE


async def not_contact(update: Update, context: BotContext) -> int:
    """Anything but the contact button while we wait for the phone number."""
    assert update.message is not None
    await update.message.reply_text(
        context._(OWN_NUMBER_ONLY), reply_markup=contact_keyboard(context._(SHARE))
    )
    return PHONE


async def national_code(update: Update, context: BotContext) -> int:
    """Validate the national code; an existing record with the same mobile is linked."""
    assert update.message is not None and update.message.text is not None
    draft = _draft(context)
    if "mobile" not in draft:
        return await _lost(update, context)
    try:
        code = parse_national_code(update.message.text[:MAX_TEXT])
        async with context.services.uow() as uow:
            existing = await claim_by_verified_mobile(uow, code, draft.get("mobile", ""))
            if existing is not None:
                await _link(context, uow, existing.id, update)
                await uow.commit()
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return NATIONAL_CODE
    if existing is not None:
        context.visitor.patient_id = existing.id
        context.data.pop(DRAFT, None)
        return await _to_menu(update, context, LINKED)
    draft["national_code"] = code
    await update.message.reply_text(context._(ASK_FIRST_NAME))
    return FIRST_NAME


async def first_name(update: Update, context: BotContext) -> int:
    """Keep the first name (checked with the rest at the end)."""
    return await _name(update, context, "first_name", ASK_LAST_NAME, LAST_NAME, FIRST_NAME)


async def last_name(update: Update, context: BotContext) -> int:
    """Keep the last name."""
    return await _name(update, context, "last_name", ASK_BIRTH_YEAR, BIRTH_YEAR, LAST_NAME)


async def _name(
    update: Update, context: BotContext, field: str, ask_next: str, next_state: int, again: int
) -> int:
    assert update.message is not None and update.message.text is not None
    text = update.message.text.strip()
    if not text or len(text) > 80 or any(ch.isdigit() for ch in text):
        key = "first" if field == "first_name" else "last"
        message = N_("Please write the first name in letters (at most {n}).")
        if key == "last":
            message = N_("Please write the last name in letters (at most {n}).")
        await update.message.reply_text(explain(InvalidInput(message, n=80), context))
        return again
    _draft(context)[field] = text
    await update.message.reply_text(context._(ask_next))
    return next_state


async def birth_year(update: Update, context: BotContext) -> int:
    """Validate the Jalali birth year; Persian digits accepted."""
    assert update.message is not None and update.message.text is not None
    now = to_tehran(context.services.clock.now()).date()
    try:
        year = parse_birth_year(
            update.message.text[:MAX_TEXT], jdatetime.date.fromgregorian(date=now).year
        )
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return BIRTH_YEAR
    _draft(context)["birth_year"] = year
    buttons = [(context._(FEMALE), routes.SEX("female")), (context._(MALE), routes.SEX("male"))]
    await update.message.reply_text(context._(ASK_SEX), reply_markup=choices(buttons, columns=2))
    return SEX


async def sex(update: Update, context: BotContext) -> int:
    """Register the patient with everything collected, and link this chat account."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = unpack(query.data)
    draft = _draft(context)
    if choice is None or choice.args not in (("female",), ("male",)):
        return SEX
    if not {"national_code", "mobile", "first_name", "last_name", "birth_year"} <= draft.keys():
        await query.edit_message_reply_markup(None)
        return await _lost(update, context)
    details = PatientDetails(
        national_code=draft["national_code"],
        mobile=draft["mobile"],
        first_name=draft["first_name"],
        last_name=draft["last_name"],
        birth_year=draft["birth_year"],
        sex=choice.args[0],
        language=context.lang,
    )
    try:
        async with context.services.uow() as uow:
            new_patient = Actor(ActorKind.PATIENT)
            patient = await register_patient(uow, new_patient, details, consent=True)
            await _link(context, uow, patient.id, update)
            await uow.commit()
    except ClinicError as error:
        await query.edit_message_text(explain(error, context))
        context.data.pop(DRAFT, None)
        return END
    context.data.pop(DRAFT, None)
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
    buttons = [(context._(FEMALE), routes.SEX("female")), (context._(MALE), routes.SEX("male"))]
    await update.message.reply_text(context._(ASK_SEX), reply_markup=choices(buttons, columns=2))


async def _lost(update: Update, context: BotContext) -> int:
    """The draft is gone (it should not be): say so and start over rather than guess."""
    assert update.effective_message is not None
    context.data.pop(DRAFT, None)
    await update.effective_message.reply_text(context._(LOST), reply_markup=ReplyKeyboardRemove())
    return END


def _draft(context: BotContext) -> dict[str, Any]:
    draft: dict[str, Any] = context.data.setdefault(DRAFT, {})
    return draft


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
