"""Help and contact, the language choice, and /cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

from bot import routes
from bot.handlers.common import END
from bot.keyboards import HELP, LANGUAGE, choices, main_menu, menu_filter
from clinic.actors import Actor
from clinic.i18n import N_
from clinic.patients import set_language
from clinic.sites import all_sites
from clinic.text import to_persian_digits

if TYPE_CHECKING:
    from bot.context import BotContext
    from clinic.policy import Department

HELP_TEXT = N_(
    "{department}\n\n"
    "Address: {address}\n"
    "Phone: {phone}\n"
    "Working hours: {hours}\n"
    "Results are collected at: {pickup}\n\n"
    "Use the menu below for requests and appointments. Send /cancel at any time to leave "
    "what you are doing."
)
CENTRE_TEXT = N_(
    "{department}\n"
    "Address: {address}\n"
    "Phone: {phone}\n"
    "Working hours: {hours}\n"
    "Results are collected at: {pickup}"
)
MENU_HINT = N_(
    "Use the menu below for requests and appointments. Send /cancel at any time to leave "
    "what you are doing."
)
CHOOSE_LANGUAGE = N_("Please choose your language.")
LANGUAGE_SAVED = N_("Done. From now on I will write to you in {language}.")
CANCELLED = N_("Stopped. What would you like to do?")
CANCELLED_GUEST = N_("Stopped. Send /start whenever you would like to register.")
NAMES = {"fa": "فارسی", "en": "English"}


async def help_and_contact(update: Update, context: BotContext) -> None:
    """Show the department's address, phone, hours and where results are collected (each
    centre's, where the service has several)."""
    assert update.effective_message is not None
    async with context.services.uow().reading() as uow:
        centres = [s.details for s in await all_sites(uow)]
    if len(centres) <= 1:
        text = _contact(context, HELP_TEXT, centres[0] if centres else context.services.department)
    else:
        blocks = [_contact(context, CENTRE_TEXT, details) for details in centres]
        text = "\n\n".join([*blocks, context._(MENU_HINT)])
    keyboard = main_menu(context.lang) if context.visitor.patient_id else None
    await update.effective_message.reply_text(text, reply_markup=keyboard)


def _contact(context: BotContext, msgid: str, dept: Department) -> str:
    phone = to_persian_digits(dept.phone) if context.lang == "fa" else dept.phone
    return context._(msgid).format(
        department=dept.text("name", context.lang),
        address=dept.text("address", context.lang),
        phone=phone,
        hours=dept.text("hours", context.lang),
        pickup=dept.text("pickup", context.lang),
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """Offer Persian and English."""
    assert update.effective_message is not None
    buttons = [(name, routes.LANGUAGE(code)) for code, name in NAMES.items()]
    await update.effective_message.reply_text(
        context._(CHOOSE_LANGUAGE), reply_markup=choices(buttons, columns=2)
    )


async def language_chosen(update: Update, context: BotContext) -> None:
    """Save the language (on the patient when registered) and answer in it."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    args = routes.LANGUAGE.read(query.data)
    lang = args.word(0) if args else None
    if lang not in NAMES:
        return
    context.data["lang"] = lang
    if context.visitor.patient_id is not None:
        async with context.services.uow() as uow:
            me = Actor.patient(context.visitor.patient_id)
            await set_language(uow, me, context.visitor.patient_id, lang)
            await uow.commit()
    context.visitor.lang = lang
    saved = context._(LANGUAGE_SAVED).format(language=NAMES[lang])
    if context.visitor.patient_id is not None and query.message is not None:
        await query.edit_message_reply_markup(None)
        await context.bot.send_message(query.message.chat.id, saved, reply_markup=main_menu(lang))
    else:
        await query.edit_message_text(saved)


async def cancel(update: Update, context: BotContext) -> int:
    """Leave any conversation and go back to the main menu."""
    assert update.effective_message is not None
    for key in list(context.data):
        if key not in ("lang",):
            context.data.pop(key)
    if context.visitor.patient_id is None:
        await update.effective_message.reply_text(
            context._(CANCELLED_GUEST), reply_markup=ReplyKeyboardRemove()
        )
        return END
    await update.effective_message.reply_text(
        context._(CANCELLED), reply_markup=main_menu(context.lang)
    )
    return END


def info_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """Handlers available everywhere, outside conversations."""
    return [
        CommandHandler("help", help_and_contact),
        MessageHandler(menu_filter(HELP), help_and_contact),
        CommandHandler("language", choose_language),
        MessageHandler(menu_filter(LANGUAGE), choose_language),
        CallbackQueryHandler(language_chosen, pattern=routes.LANGUAGE.pattern),
        CommandHandler("cancel", cancel),
    ]
