"""What every staff handler shares: who may act (a role, read at each update), the staff
mode's gate (``bot.gate``), and the way back to the staff menu."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bot import gate, routes
from bot.drafts import STAFF_INPUT, StaffInput
from bot.handlers.common import explain
from bot.keyboards import choices
from bot.views import name
from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.models import Role
from clinic.sites import all_sites

if TYPE_CHECKING:
    from datetime import date

    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.gate import Typed, View, Who
    from clinic.actors import Actor
    from clinic.errors import ClinicError
    from clinic.setup_views import DeviceView
    from clinic.uow import UnitOfWork

INPUT = STAFF_INPUT.key  # the typed answer a staff step waits for (bot.drafts.StaffInput)
TO_MENU = N_("‹ Staff menu")
CANCELLED = N_("Stopped. Nothing was changed.")


async def device_labels(
    uow: UnitOfWork, devices: list[DeviceView], lang: str
) -> list[tuple[DeviceView, str]]:
    """Each device with its label in a staff list: its name, and its hospital's where the
    service has several sites (two hospitals' "CT" are told apart)."""
    hospitals = {s.id: s.hospital(lang) for s in await all_sites(uow)}
    several = len(hospitals) > 1
    return [
        (d, f"{name(d, lang)} · {hospitals.get(d.site or 0, '')}" if several else name(d, lang))
        for d in devices
    ]


def staff(context: BotContext, role: Role) -> Actor | None:
    """The staff actor when they hold ``role`` (admins hold every role) right now, else None."""
    actor = context.visitor.staff
    if actor is None or not (Role.ADMIN in actor.roles or role in actor.roles):
        return None
    return actor


def holding(role: Role) -> Who:
    """Who may act on a step of ``role``: a staff member holding it now."""
    return lambda context: staff(context, role)


def back(context: BotContext, *extra: tuple[str, str]) -> InlineKeyboardMarkup:
    """Extra buttons, then one back to the staff menu."""
    return choices([], extra=[*extra, (context._(TO_MENU), routes.STAFF_MENU())])


def _failed(context: BotContext, error: ClinicError) -> View:
    return explain(error, context), back(context)


STAFF = gate.Mode(
    member=lambda context: context.visitor.staff,
    input_key=INPUT,
    failed=_failed,
    back=back,
    cancelled=CANCELLED,
    max_text=1200,  # longer than any answer we ask for
    gathers=False,
)


def ask(context: BotContext, state: StaffInput) -> None:
    """Wait for a typed answer to ``state["kind"]`` (ids and choices only, never personal
    data), in place of any other the staff member was asked for."""
    STAFF_INPUT.put(context, state)


def waiting(t: Typed) -> StaffInput:
    """What the typed answer ``t`` is to: the state its step's ``ask`` kept."""
    return cast("StaffInput", t.state)


async def device_of_today(uow: UnitOfWork, device_id: int) -> DeviceView:
    """The device a day list or queue of today is for; NotFound for one that does not exist."""
    device = (await department_setup(uow)).devices.get(device_id)
    if device is None:
        raise NotFound()
    return device


def today_in_tehran(context: BotContext) -> date:
    """Today's date in Tehran, by the bot's clock."""
    return to_tehran(context.services.clock.now()).date()
