"""The family menu: the members this account books for (add, see, remove), and the other
accounts acting for the holder's own record (a family's, after they took it over: removable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler

from bot import routes
from bot.gate import PatientMode, Press, Step, View, patient, patient_press
from bot.handlers.booking import NEED_LOGIN
from bot.handlers.common import explain, show
from bot.keyboards import FAMILY, choices, menu_filter
from bot.whose import chat_user
from clinic.errors import ClinicError, NotFound
from clinic.family import (
    accounts_with_access,
    family_members,
    label,
    member_of,
    remove_family_member,
    revoke_access,
)
from clinic.i18n import N_
from clinic.jalali import format_date, to_tehran
from clinic.models import Platform, Relation

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from clinic.family import SharedAccess

INTRO = N_(
    "From this account you can also send requests, book, cancel and get the messages for "
    "family members: a parent, a child, your spouse… Each of them is registered with their "
    "own national code."
)
LIST = N_("The family members you book for:")
ADD = N_("➕ Add a family member")
ACCESS = N_("🔐 Accounts that can act for me")
MEMBER = N_(
    "You can send requests, book and cancel for {name} from this account. Their messages come "
    "here unless they use the bot from their own phone.\n\nTheir appointments and results are "
    "under «My appointments» and «My results»."
)
THEIR_APPOINTMENTS = N_("📅 Their appointments")
THEIR_RESULTS = N_("📄 Their results")
REMOVE = N_("➖ Remove from my list")
SURE_REMOVE = N_(
    "Remove {name} from your family list? You will no longer see or book their appointments "
    "here, or get their messages. Their record and appointments stay with the department."
)
YES_REMOVE, NO_KEEP = N_("Yes, remove"), N_("No, keep")
REMOVED = N_("{name} is no longer on your family list.")
TO_FAMILY = N_("‹ Family")
NO_ACCESS = N_("No other account can act for you.")
ACCESS_LIST = N_(
    "These accounts of your family can also see, book and cancel your appointments. You can "
    "remove any of them:"
)
ACCESS_ITEM = N_("❌ {who} ({platform}), since {date}")
# What the holder of the other account is to the patient (the relation is what the patient
# is to them, so the other way round); never who they are.
WHO = {
    Relation.PARENT: N_("Your child"),
    Relation.CHILD: N_("Your parent"),
    Relation.SPOUSE: N_("Your spouse"),
    Relation.SIBLING: N_("Your brother or sister"),
    Relation.OTHER: N_("A family member"),
}
PLATFORMS = {Platform.TELEGRAM: N_("Telegram"), Platform.BALE: N_("Bale")}
SURE_REVOKE = N_(
    "Remove this account's access to your record? It will no longer see or book your "
    "appointments, or get your messages."
)
YES_REVOKE = N_("Yes, remove its access")
REVOKED = N_("Done: that account can no longer act for you.")


def _back(context: BotContext) -> tuple[str, str]:
    return context._(TO_FAMILY), routes.FAMILY()


def _failed(context: BotContext, error: ClinicError) -> View:
    """The reason, and back to the family menu (someone not on the list is not found)."""
    return explain(error, context), choices([], extra=[_back(context)])


# The family buttons of the registered patient of this chat.
MINE = PatientMode(failed=_failed, unregistered=NEED_LOGIN)


async def menu_view(context: BotContext) -> View:
    """The members (one button each), adding one, and the accounts acting for the holder."""
    actor = patient(context)
    assert actor is not None
    async with context.services.uow().reading() as uow:
        found = await family_members(uow, chat_user(context))
        shared = await accounts_with_access(uow, actor, chat_user(context))
    _ = context._
    items = [(f"{_(m.word)} — {m.name}", routes.FAMILY_MEMBER(m.patient_id)) for m in found]
    extra = [(_(ADD), routes.FAMILY_ADD())]
    if shared:
        extra.append((_(ACCESS), routes.ACCESS()))
    return _(LIST if found else INTRO), choices(items, extra=extra)


async def family_menu(update: Update, context: BotContext) -> None:
    """The family menu button."""
    assert update.effective_message is not None
    if patient(context) is None:
        await update.effective_message.reply_text(context._(NEED_LOGIN))
        return
    try:
        view = await menu_view(context)
    except ClinicError as error:  # an account acting for others only: it has no family here
        view = _failed(context, error)
    await show(update, context, view)


async def _menu(p: Press) -> View:
    """Back to the family menu."""
    return await menu_view(p.context)


async def _member(p: Press) -> View:
    """One member: whose, their appointments and results, removing them from the list."""
    context, pid = p.context, p.args.id(0)
    async with context.services.uow().reading() as uow:
        member = await member_of(uow, chat_user(context), pid)
    if member is None:
        raise NotFound()
    _ = context._
    buttons = [
        (_(THEIR_APPOINTMENTS), routes.APPOINTMENTS(pid)),
        (_(THEIR_RESULTS), routes.RESULTS_FOR(pid)),
        (_(REMOVE), routes.FAMILY_REMOVE(pid)),
        _back(context),
    ]
    text = f"{label(member, _)}\n\n{_(MEMBER).format(name=member.first_name)}"
    return text, choices([], extra=buttons)


async def _ask_remove(p: Press) -> View:
    """Ask before removing a member from the list."""
    context, pid = p.context, p.args.id(0)
    async with context.services.uow().reading() as uow:
        member = await member_of(uow, chat_user(context), pid)
    if member is None:
        raise NotFound()
    buttons = [
        (context._(YES_REMOVE), routes.FAMILY_REMOVE_CONFIRMED(pid)),
        (context._(NO_KEEP), routes.FAMILY_MEMBER(pid)),
    ]
    return context._(SURE_REMOVE).format(name=member.name), choices(buttons, columns=2)


async def _remove(p: Press) -> View:
    """Remove the member: this account no longer acts for them."""
    context = p.context
    async with context.services.uow() as uow:
        member = await remove_family_member(uow, p.actor, chat_user(context), p.args.id(0))
        await uow.commit()
    if member.patient_id in context.visitor.patient_ids:
        context.visitor.patient_ids.remove(member.patient_id)
    text, markup = await menu_view(context)
    return f"{context._(REMOVED).format(name=member.name)}\n\n{text}", markup


def _access_item(context: BotContext, access: SharedAccess) -> tuple[str, str]:
    _ = context._
    since = format_date(to_tehran(access.since).date(), context.lang)
    text = _(ACCESS_ITEM).format(
        who=_(WHO[access.relation]), platform=_(PLATFORMS[access.platform]), date=since
    )
    return text, routes.ACCESS_REVOKE(access.account_id)


async def access_view(context: BotContext) -> View:
    """The other accounts acting for the holder's own record, each removable."""
    actor = patient(context)
    assert actor is not None
    async with context.services.uow().reading() as uow:
        shared = await accounts_with_access(uow, actor, chat_user(context))
    items = [_access_item(context, a) for a in shared]
    text = context._(ACCESS_LIST if shared else NO_ACCESS)
    return text, choices(items, extra=[_back(context)])


async def _access(p: Press) -> View:
    """The accounts acting for me."""
    return await access_view(p.context)


async def _ask_revoke(p: Press) -> View:
    """Ask before removing an account's access."""
    context, account_id = p.context, p.args.id(0)
    async with context.services.uow().reading() as uow:
        shared = await accounts_with_access(uow, p.actor, chat_user(context))
    if account_id not in {a.account_id for a in shared}:
        raise NotFound()
    buttons = [
        (context._(YES_REVOKE), routes.ACCESS_REVOKE_CONFIRMED(account_id)),
        (context._(NO_KEEP), routes.ACCESS()),
    ]
    return context._(SURE_REVOKE), choices(buttons, columns=2)


async def _revoke(p: Press) -> View:
    """Remove the account's access to my record."""
    context = p.context
    async with context.services.uow() as uow:
        await revoke_access(uow, p.actor, chat_user(context), p.args.id(0))
        await uow.commit()
    text, markup = await access_view(context)
    return f"{context._(REVOKED)}\n\n{text}", markup


BUTTONS: dict[routes.Route, Step] = {
    routes.FAMILY: _menu,
    routes.FAMILY_MEMBER: _member,
    routes.FAMILY_REMOVE: _ask_remove,
    routes.FAMILY_REMOVE_CONFIRMED: _remove,
    routes.ACCESS: _access,
    routes.ACCESS_REVOKE: _ask_revoke,
    routes.ACCESS_REVOKE_CONFIRMED: _revoke,
}


def family_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The family menu button and every button of the family menu (adding a member is the
    family conversation's, ``bot.conversations.family``)."""
    return [
        MessageHandler(menu_filter(FAMILY), family_menu),
        *(
            CallbackQueryHandler(patient_press(MINE, route, step), pattern=route.pattern)
            for route, step in BUTTONS.items()
        ),
    ]
