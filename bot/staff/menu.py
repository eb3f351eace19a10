"""The /staff command and the staff menu, with a section for each role the member holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.callbacks import pack
from bot.handlers.common import pass_on, show
from bot.keyboards import choices
from bot.staff.common import INPUT
from clinic.i18n import N_
from clinic.models import Role

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.gate import View
    from clinic.actors import Actor

MENU = N_("Staff menu. What would you like to do?")
ITEMS = (
    (Role.RECEPTION, N_("📥 Referrals to review"), "sref"),
    (Role.RECEPTION, N_("📋 Today's list"), "sday"),
    (Role.RECEPTION, N_("🔎 Find an appointment"), "sfind"),
    (Role.ADMIN, N_("⛔ Close a device or the department"), "scl"),
    (Role.ADMIN, N_("✅ Re-open"), "sreo"),
    (Role.ADMIN, N_("👤 Add a staff member"), "sadd"),
    (Role.ADMIN, N_("🏠 Add a health worker"), "sahw"),
    (Role.REPORTING, N_("📝 Report final"), "srpf"),
    (Role.REPORTING, N_("✏️ Report corrected"), "srpc"),
    (Role.RECEPTION, N_("📨 Hospital events waiting"), "sev"),
    (Role.BROADCASTER, N_("📣 New broadcast"), "sbc"),
)


def menu_view(context: BotContext, actor: Actor) -> View:
    """The buttons this member's roles allow (admins see everything)."""
    admin = Role.ADMIN in actor.roles
    items = [
        (context._(label), pack(action))
        for role, label, action in ITEMS
        if admin or role in actor.roles
    ]
    return context._(MENU), choices(items)


async def open_menu(update: Update, context: BotContext) -> None:
    """/staff or the menu button: the staff menu; anyone else gets what an unknown input gets."""
    actor = context.visitor.staff
    if actor is None:
        pass_on()
    if update.callback_query is not None:
        await update.callback_query.answer()
    context.data.pop(INPUT, None)
    await show(update, context, menu_view(context, actor))
