"""/link CODE, then the account's own number: staff and health workers link this chat account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.drafts import LINK
from bot.handlers.common import END, Conversation, explain, hand_over
from bot.handlers.info import cancel
from bot.keyboards import contact_keyboard, main_menu
from clinic.errors import ClinicError, LinkLocked, NotOwnContact
from clinic.i18n import N_
from clinic.jalali import format_datetime
from clinic.link_limits import ChatUser
from clinic.linking import SharedContact, bind_link_code, check_link_code
from clinic.models import ActorKind

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

CONTACT = 0
MAX_TEXT = 64
ASK_CODE = N_("Please send the code you were given like this: /link 1234567890")
ASK_PHONE = N_(
    "The code is right. To finish, please share this account's phone number with the button "
    "below. It must be the mobile number the department has on record for you."
)
SHARE = N_("📱 Share my number")
USE_BUTTON = N_("Please use the button below to share this account's number, or send /cancel.")
LINKED_STAFF = N_("This account is now linked as staff. Send /staff to open the staff menu.")
LINKED_WORKER = N_(
    "This account is now linked as a health worker. Send /worker to open the health worker menu."
)
T = TypeVar("T")


async def link(update: Update, context: BotContext) -> int:
    """Check the code typed after /link (Persian digits and spaces fine), then ask the number."""
    assert update.message is not None
    LINK.drop(context)
    if not context.args:
        await update.message.reply_text(context._(ASK_CODE))
        return END
    typed = " ".join(context.args)[:MAX_TEXT]
    try:
        async with context.services.uow() as uow:
            code_id = await _kept(uow, check_link_code(uow, typed, _who(update, context)))
    except ClinicError as error:
        await _refuse(update, context, error)
        return END
    LINK.put(context, {"code": code_id})  # the checked code's id, never the code
    await update.message.reply_text(context._(ASK_PHONE), reply_markup=_share(context))
    return CONTACT


async def contact(update: Update, context: BotContext) -> int:
    """Link the account if the contact is its own and is the person's mobile on record."""
    assert update.message is not None and update.message.contact is not None
    assert update.effective_user is not None
    shared = update.message.contact
    own = SharedContact(shared.phone_number, shared.user_id == update.effective_user.id)
    draft = LINK.get(context)
    assert draft is not None  # _drafted checked it
    code_id = draft["code"]
    try:
        async with context.services.uow() as uow:
            actor = await _kept(uow, bind_link_code(uow, code_id, _who(update, context), own))
    except NotOwnContact as error:  # the code is still waiting for the right contact
        await update.message.reply_text(explain(error, context), reply_markup=_share(context))
        return CONTACT
    except ClinicError as error:
        LINK.drop(context)
        await _refuse(update, context, error)
        return END
    LINK.drop(context)
    linked = LINKED_WORKER if actor.kind is ActorKind.HEALTH_WORKER else LINKED_STAFF
    await update.message.reply_text(context._(linked), reply_markup=_keyboard_after(context))
    return END


async def use_button(update: Update, context: BotContext) -> int:
    """Anything but a contact while the number is awaited: show the button again."""
    assert update.message is not None
    await update.message.reply_text(context._(USE_BUTTON), reply_markup=_share(context))
    return CONTACT


async def _kept(uow: UnitOfWork, step: Awaitable[T]) -> T:
    """Run a linking step and commit, also when it refuses: the failure is counted and audited."""
    try:
        result = await step
    except ClinicError:
        await uow.commit()
        raise
    await uow.commit()
    return result


async def _refuse(update: Update, context: BotContext, error: ClinicError) -> None:
    """The refusal, with a lockout's end in Tehran time (Jalali, Persian digits for fa)."""
    assert update.message is not None
    text = explain(error, context)
    if isinstance(error, LinkLocked):
        text = context._(error.message).format(until=format_datetime(error.until, context.lang))
    await update.message.reply_text(text, reply_markup=_keyboard_after(context))


def _keyboard_after(context: BotContext) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The contact button goes; a patient (a staff member may be one) gets their menu back."""
    if context.visitor.patient_id is not None:
        return main_menu(context.lang)
    return ReplyKeyboardRemove()


def _who(update: Update, context: BotContext) -> ChatUser:
    assert update.effective_user is not None
    return ChatUser(context.services.platform, update.effective_user.id)


def _share(context: BotContext) -> ReplyKeyboardMarkup:
    return contact_keyboard(context._(SHARE))


Step = Callable[[Update, BotContext], Coroutine[Any, Any, int]]


def _drafted(step: Step) -> Step:
    """Run ``step`` only while a checked code waits (/start drops it); else let the update go."""

    async def guarded(update: Update, context: BotContext) -> int:
        draft = LINK.get(context)
        if draft is None or not isinstance(draft.get("code"), int):
            await hand_over(update, context, "link")
            return END
        return await step(update, context)

    return guarded


def build_link() -> ConversationHandler[BotContext]:
    """/link CODE and the number that must follow, persisted so a restart keeps the step.

    Registered before registration, so the contact answers the link even for someone who had
    begun /start. Only the user's own contact, shared with the button, is taken as the number.
    """
    private = filters.ChatType.PRIVATE
    return Conversation(
        entry_points=[CommandHandler("link", link, filters=private)],
        states={
            CONTACT: [
                MessageHandler(private & filters.CONTACT & ~filters.FORWARDED, _drafted(contact)),
                MessageHandler(private & ~filters.COMMAND, _drafted(use_button)),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name="link",
        persistent=True,
        allow_reentry=True,
    )
