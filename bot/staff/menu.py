"""The /staff command and the staff menu, with a section for each role the member holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import DESK, STAFF_INPUT
from bot.handlers.common import pass_on, show
from bot.keyboards import choices
from clinic.i18n import N_
from clinic.models import Role

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.gate import View
    from clinic.actors import Actor

MENU = N_("Staff menu. What would you like to do?")
ITEMS = (
    (Role.RECEPTION, N_("📥 Referrals to review"), routes.REFERRALS),
    (Role.RECEPTION, N_("📋 Today's list"), routes.DAY_DEVICES),
    (Role.RECEPTION, N_("🔎 Find an appointment"), routes.FIND),
    (Role.ADMIN, N_("⛔ Close a device or the department"), routes.CLOSURE),
    (Role.ADMIN, N_("✅ Re-open"), routes.REOPEN),
    (Role.ADMIN, N_("👤 Add a staff member"), routes.ROLES),
    (Role.ADMIN, N_("🏠 Add a health worker"), routes.HOUSES),
    (Role.REPORTING, N_("📝 Report final"), routes.REPORT_FINAL),
    (Role.REPORTING, N_("✏️ Report corrected"), routes.REPORT_CORRECTED),
    (Role.RECEPTION, N_("🗓 Book for a patient"), routes.DESK_BOOK),
    (Role.RECEPTION, N_("🎫 Walk-in ticket"), routes.WALK_IN),
    (Role.RECEPTION, N_("🚶 Walk-in queues"), routes.QUEUE_DEVICES),
    (Role.RECEPTION, N_("📄 Results desk"), routes.PICKUP),
    (Role.ADMIN, N_("🏥 Department setup"), routes.SETUP),
    (Role.ADMIN, N_("🗂 A patient's data (export, erase)"), routes.PATIENT_DATA),
    (Role.RECEPTION, N_("📨 Hospital events waiting"), routes.EVENTS),
    (Role.BROADCASTER, N_("📣 New broadcast"), routes.BROADCAST),
)


def menu_view(context: BotContext, actor: Actor) -> View:
    """The buttons this member's roles allow (admins see everything)."""
    admin = Role.ADMIN in actor.roles
    items = [
        (context._(label), route()) for role, label, route in ITEMS if admin or role in actor.roles
    ]
    return context._(MENU), choices(items)


async def open_menu(update: Update, context: BotContext) -> None:
    """/staff or the menu button: the staff menu; anyone else gets what an unknown input gets."""
    actor = context.visitor.staff
    if actor is None:
        pass_on()
    if update.callback_query is not None:
        await update.callback_query.answer()
    STAFF_INPUT.drop(context)
    DESK.drop(context)
    await show(update, context, menu_view(context, actor))
