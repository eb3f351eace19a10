"""Adding a family member: national code, mobile, the SMS code, name, birth year, sex,
relation, consent.

The conversation of ``bot.family_steps``: each answer checked as registration checks it. After
the mobile, a one-time code goes by SMS (to the mobile on record for the national code, else
to theirs or the holder's) with the same answer either way. With the right code, a new member
is registered (``clinic.family.add_family_member``) and one on record is linked as they are
(``link_family_member``), with the consent given on this account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot import registration_steps as steps
from bot import routes
from bot.conversations.registration import ask_in_writing
from bot.drafts import FAMILY, REQUEST
from bot.family_steps import RELATIONS, details, holder
from bot.gate import patient
from bot.handlers.booking import NEED_LOGIN
from bot.handlers.common import END, Conversation, explain, hand_over, show
from bot.handlers.info import cancel
from bot.keyboards import all_menu_labels, choices
from bot.whose import chat_user
from clinic.errors import ClinicError, TooManyFamilyMembers
from clinic.family import (
    AlreadyInFamily,
    add_family_member,
    check_new_member,
    label,
    link_family_member,
    send_member_code,
)
from clinic.i18n import N_
from clinic.identity_checks import check_code
from clinic.patients import get_patient

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from telegram import InlineKeyboardMarkup, Update

    from bot.context import BotContext
    from bot.family_steps import Holder
    from bot.registration_steps import Registrar, TypedField

    Step = Callable[[Update, BotContext], Coroutine[Any, Any, int | None]]

NATIONAL_CODE, FIRST_NAME, LAST_NAME, BIRTH_YEAR, SEX, RELATION, MOBILE, CONSENT, CODE = range(9)
# The state of each step (numbers kept across releases: persisted conversations hold them).
STATES = {
    "national_code": NATIONAL_CODE, "mobile": MOBILE, "code": CODE, "first_name": FIRST_NAME,
    "last_name": LAST_NAME, "birth_year": BIRTH_YEAR, "sex": SEX, "relation": RELATION,
    "consent": CONSENT,
}  # fmt: skip
MAX_TEXT = 200
ADDED = N_(
    "{name} has been added. When you send a request or look at your appointments or results, "
    "you can now choose them."
)
TO_FAMILY = N_("‹ Family")
LOST = N_("Sorry, I lost part of the answers. Please start again from the family menu.")


def _state(r: Registrar) -> int:
    return END if r.asking is None else STATES[r.asking]


def _back(context: BotContext) -> InlineKeyboardMarkup:
    return choices([], extra=[(context._(TO_FAMILY), routes.FAMILY())])


async def start(update: Update, context: BotContext) -> int:
    """Begin: the national code first (another request being put together is dropped)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    r = holder(context)
    if r is None:
        await show(update, context, (context._(NEED_LOGIN), None))
        return END
    REQUEST.drop(context)
    await show(update, context, steps.ask(r, {}, "national_code"))
    return _state(r)


async def national_code(update: Update, context: BotContext) -> int:
    """A valid national code (not the holder's own, nor someone the account acts for), and
    room for one more member: whether it is anyone's record is not looked at here."""
    assert update.message is not None and update.message.text is not None
    r = holder(context)
    assert r is not None  # _drafted checked it
    try:
        answer = steps.valid(r, "national_code", update.message.text[:MAX_TEXT])
        async with context.services.uow().reading() as uow:
            await check_new_member(uow, r.actor, chat_user(context), answer["national_code"])
    except (AlreadyInFamily, TooManyFamilyMembers) as error:
        r.drop()
        await update.message.reply_text(explain(error, context), reply_markup=_back(context))
        return END
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return NATIONAL_CODE
    await show(update, context, steps.answered(r, r.draft, answer))
    return _state(r)


async def first_name(update: Update, context: BotContext) -> int:
    """The first name (in letters)."""
    return await _typed(update, context, "first_name")


async def last_name(update: Update, context: BotContext) -> int:
    """The last name."""
    return await _typed(update, context, "last_name")


async def birth_year(update: Update, context: BotContext) -> int:
    """The Jalali birth year (Persian digits fine), then the sex buttons."""
    return await _typed(update, context, "birth_year")


async def mobile(update: Update, context: BotContext) -> int:
    """Their own mobile, typed: a new member's code goes to it (on record: to the record's)."""
    assert update.message is not None and update.message.text is not None
    r = holder(context)
    assert r is not None
    try:
        answer = steps.valid(r, "mobile", update.message.text[:MAX_TEXT])
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return MOBILE
    r.draft.pop("no_mobile", None)
    return await _send_code(update, context, r, answer["mobile"])


async def _send_code(
    update: Update, context: BotContext, r: Holder, typed_mobile: str | None
) -> int:
    """Send the one-time code and ask for it (the same words, on record or not)."""
    try:
        async with context.services.uow() as uow:
            check = await steps.counted(uow, send_member_code(
                uow, r.actor, chat_user(context), r.draft.get("national_code", ""),
                typed_mobile, context.lang,
            ))  # fmt: skip
            await uow.commit()
    except ClinicError as error:
        r.drop()
        await show(update, context, (steps.refusal(error, context), _back(context)))
        return END
    r.draft["check"], r.draft["confirmed"] = check, False
    if typed_mobile is not None:
        r.draft["mobile"] = typed_mobile
    await show(update, context, steps.ask(r, r.draft, "code"))
    return _state(r)


async def code(update: Update, context: BotContext) -> int:
    """The code: a member on record is linked next (the relation and consent asked first), a
    new one's details are asked; wrong, tries left (the button sends a new code)."""
    assert update.message is not None and update.message.text is not None
    r = holder(context)
    assert r is not None
    check = r.draft.get("check")
    if not check:
        return await _lost(update, context, r)
    try:
        async with context.services.uow() as uow:
            verified = await steps.counted(
                uow, check_code(uow, r.asker, check, update.message.text)
            )
            sex = None
            if verified.patient_id is not None:
                sex = (await get_patient(uow, verified.patient_id)).sex
            await uow.commit()
    except ClinicError as error:
        text = steps.refusal(error, context)
        await update.message.reply_text(text, reply_markup=r.keyboard("code"))
        return CODE
    r.draft["confirmed"] = True
    if sex is not None:  # on record: only what they are to the holder is asked
        r.draft["on_record"], r.draft["sex"] = True, sex.value
        await show(update, context, steps.ask(r, r.draft, "relation"))
    else:
        await show(update, context, steps.ask(r, r.draft, "first_name"))
    return _state(r)


async def code_again(update: Update, context: BotContext) -> int:
    """Send a new one-time code (a minute after the last, a few a day)."""
    query = update.callback_query
    assert query is not None and update.effective_message is not None
    await query.answer()
    r = holder(context)
    assert r is not None
    check = r.draft.get("check")
    if not check or r.draft.get("confirmed"):
        return await _lost(update, context, r)
    text = await steps.send_again(context, r.asker, check)
    await update.effective_message.reply_text(text, reply_markup=r.keyboard("code"))
    return CODE


async def _lost(update: Update, context: BotContext, r: Holder) -> int:
    r.drop()
    await show(update, context, (context._(LOST), _back(context)))
    return END


async def _typed(update: Update, context: BotContext, field: TypedField) -> int:
    assert update.message is not None and update.message.text is not None
    r = holder(context)
    assert r is not None
    try:
        view = steps.take(r, r.draft, field, update.message.text[:MAX_TEXT])
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return STATES[field]
    await show(update, context, view)
    return _state(r)


async def sex(update: Update, context: BotContext) -> int:
    """Keep the sex; ask what they are to the holder."""
    return await _pressed(update, context, routes.FAMILY_SEX, "sex", SEX)


async def relation(update: Update, context: BotContext) -> int:
    """Keep the relation; ask their mobile."""
    return await _pressed(update, context, routes.FAMILY_RELATION, "relation", RELATION)


async def _pressed(
    update: Update, context: BotContext, route: routes.Route, field: str, state: int
) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    args, r = route.read(query.data), holder(context)
    assert r is not None
    word = args.word(0) if args else None
    known = steps.SEXES if field == "sex" else tuple(x.value for x in RELATIONS)
    if word not in known:
        return state  # an old or forged press: the question stays
    answer: Any = {field: word}
    await show(update, context, steps.answered(r, r.draft, answer))
    return _state(r)


async def no_mobile(update: Update, context: BotContext) -> int:
    """They have no mobile of their own: a new member's code goes to the holder's, which
    stays on their record."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    r = holder(context)
    assert r is not None
    r.draft["no_mobile"] = True
    r.draft.pop("mobile", None)
    return await _send_code(update, context, r, None)


async def agree(update: Update, context: BotContext) -> int:
    """The holder gave the consent for them: register them and link them to this account."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    r = holder(context)
    assert r is not None
    draft = r.draft
    found, check = details(draft, context.lang), draft.get("check")
    r.drop()
    if not check or not draft.get("confirmed") or (found is None and not draft.get("on_record")):
        await show(update, context, (context._(LOST), _back(context)))
        return END
    who = chat_user(context)
    try:
        async with context.services.uow() as uow:
            if draft.get("on_record"):
                relation = draft.get("relation", "")
                member = await link_family_member(uow, r.actor, who, check, relation)
            else:
                assert found is not None
                member = await add_family_member(uow, r.actor, who, found, check)
            await uow.commit()
    except ClinicError as error:
        await show(update, context, (explain(error, context), _back(context)))
        return END
    context.visitor.patient_ids.append(member.patient_id)
    done = context._(ADDED).format(name=member.first_name)
    await show(update, context, (f"{label(member, context._)}\n\n{done}", _back(context)))
    return END


def _again(step: str) -> Step:
    """Anything but the buttons while ``step``'s buttons wait: its question again."""

    async def again(update: Update, context: BotContext) -> int | None:
        r = holder(context)
        assert update.message is not None and r is not None
        text, markup = steps.question(r, step)
        await update.message.reply_text(text, reply_markup=markup)
        return None

    return again


async def leave(update: Update, context: BotContext) -> int:
    """A main-menu button midway: nobody is added; the button does what it says."""
    FAMILY.drop(context)
    await hand_over(update, context, "family")
    return END


def _drafted(step: Step) -> Step:
    """Run ``step`` only while the draft exists and the sender is a registered patient (/start
    drops the draft; a removed record ends it); else let the update go."""

    async def guarded(update: Update, context: BotContext) -> int | None:
        if FAMILY.get(context) is None or patient(context) is None:
            FAMILY.drop(context)
            await hand_over(update, context, "family")
            return END
        return await step(update, context)

    return guarded


def build_family() -> ConversationHandler[BotContext]:
    """Adding a family member, persisted so a restart keeps the answers given so far. Only
    the holder's own typed text counts as an answer (not a forwarded message)."""
    other_menu = f.Text(all_menu_labels())  # the family button too: it shows the family menu
    own_text = f.TEXT & ~f.COMMAND & ~f.FORWARDED & ~other_menu
    other = ~f.COMMAND & ~other_menu

    def typed(callback: Step) -> list[Any]:
        return [
            MessageHandler(own_text, _drafted(callback)),
            MessageHandler(other, _drafted(_kept(ask_in_writing))),
        ]

    def pressed(route: routes.Route, callback: Step, step: str) -> list[Any]:
        return [
            CallbackQueryHandler(_drafted(callback), pattern=route.pattern),
            MessageHandler(other, _drafted(_again(step))),
        ]

    no_mobile_pressed: Any = CallbackQueryHandler(
        _drafted(no_mobile), pattern=routes.FAMILY_NO_MOBILE.pattern
    )
    return Conversation(
        entry_points=[CallbackQueryHandler(start, pattern=routes.FAMILY_ADD.pattern)],
        states={
            NATIONAL_CODE: typed(national_code),
            CODE: [
                CallbackQueryHandler(
                    _drafted(code_again), pattern=routes.FAMILY_CODE_AGAIN.pattern
                ),
                *typed(code),
            ],
            FIRST_NAME: typed(first_name),
            LAST_NAME: typed(last_name),
            BIRTH_YEAR: typed(birth_year),
            SEX: pressed(routes.FAMILY_SEX, sex, "sex"),
            RELATION: pressed(routes.FAMILY_RELATION, relation, "relation"),
            MOBILE: [no_mobile_pressed, *typed(mobile)],
            CONSENT: pressed(routes.FAMILY_AGREE, agree, "consent"),
        },
        fallbacks=[CommandHandler("cancel", cancel), MessageHandler(other_menu, leave)],
        name="family",
        persistent=True,
        allow_reentry=True,
    )


def _kept(callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]]) -> Step:
    """A handler that only answers, as a step that keeps the conversation where it is."""

    async def kept(update: Update, context: BotContext) -> int | None:
        await callback(update, context)
        return None

    return kept
