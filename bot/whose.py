"""Whose it is: "for whom?" when a chat account acts for family members too, and the label
("For: Father — Ali Rezaei") on every card and list that is a family member's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.keyboards import choices
from clinic.family import family_members, label, member_of
from clinic.i18n import N_
from clinic.link_limits import ChatUser

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.routes import Route
    from clinic.family import Member
    from clinic.uow import UnitOfWork

MYSELF = N_("👤 Myself")


def chat_user(context: BotContext) -> ChatUser:
    """The chat account this update came from."""
    assert context.visitor.user_id is not None, "set for every private update (bot.handlers)"
    return ChatUser(context.services.platform, context.visitor.user_id)


def has_family(context: BotContext) -> bool:
    """Whether the account acts for anyone but its holder (read at this update)."""
    return len(context.visitor.patient_ids) > 1


def chosen(context: BotContext, patient_id: int | None) -> int | None:
    """``patient_id`` when the account acts for them (its holder when None); else None."""
    if patient_id is None:
        return context.visitor.patient_id
    return patient_id if patient_id in context.visitor.patient_ids else None


async def members(context: BotContext) -> list[Member]:
    """The family members the account acts for, in the order they were added."""
    if not has_family(context):
        return []
    async with context.services.uow().reading() as uow:
        return await family_members(uow, chat_user(context))


def whom(context: BotContext, found: list[Member], route: Route) -> InlineKeyboardMarkup:
    """One button for the holder, one for each family member: ``route(patient id)``."""
    own = context.visitor.patient_id
    assert own is not None
    _ = context._
    items = [(_(MYSELF), route(own))]
    items += [(f"{_(m.word)} — {m.first_name}", route(m.patient_id)) for m in found]
    return choices(items, columns=2)


async def label_of(uow: UnitOfWork, context: BotContext, patient_id: int) -> str | None:
    """The label of a family member's record; None for the holder's own."""
    if patient_id == context.visitor.patient_id:
        return None
    member = await member_of(uow, chat_user(context), patient_id)
    return label(member, context._) if member is not None else None


def labelled(text: str, line: str | None) -> str:
    """``text`` under the label (as it is without one)."""
    return f"{line}\n\n{text}" if line else text
