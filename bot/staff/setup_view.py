"""The admin sees the department's setup as it is (read only: it is changed by editing the
department file and ``radyar department import``): each device, its room, slots and places,
the places kept back, its weekly hours by day of the Iranian week, retired devices marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.keyboards import choices
from bot.staff.common import TO_MENU
from bot.views import MODALITY_NAMES, digits, name
from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.jalali import format_time

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, View
    from clinic.setup_views import DeviceView

DEVICES = N_(
    "The department's devices. To change them, edit the department file and run "
    "“radyar department import”."
)
LINE = "{code} · {name} · {room}{retired}"  # no words to translate
RETIRED = N_(" (retired)")
DEVICE = N_(
    "{code} · {name}{retired}\nKind: {modality}\nRoom: {room}, floor {floor}\n"
    "Slots of {minutes} minutes, {places} places each\nKept back: {kept}\n\nWeekly hours:\n{hours}"
)
KEPT_SLOT = N_("{places} in every slot for {whom}")
KEPT_DAY = N_("{places} a day for {whom}")
KEEP_NAMES = {
    "walk_in": N_("walk-ins"),
    "inpatient": N_("inpatients"),
    "urgent": N_("urgent cases"),
}
NOTHING_KEPT = N_("none")
WEEKDAYS = (  # 0 is Saturday, as in clinic.setup_views.ShiftView
    N_("Saturday"),
    N_("Sunday"),
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
)
DAYS = N_("{first} to {last}")
CLOSED = N_("closed")
TO_DEVICES = N_("‹ Devices")


async def devices(p: Press) -> View:
    """Every device, retired ones marked, a button each for its details."""
    context = p.context
    async with context.services.uow() as uow:
        found = sorted((await department_setup(uow)).devices.values(), key=lambda d: d.id)
    lines = [_line(context, d) for d in found]
    items = [(f"{d.code} · {name(d, context.lang)}", routes.SETUP_DEVICE(d.id)) for d in found]
    text = "\n".join([context._(DEVICES), "", *lines])
    return text, choices(items, extra=[(context._(TO_MENU), routes.STAFF_MENU())])


def _line(context: BotContext, device: DeviceView) -> str:
    return LINE.format(
        code=device.code,
        name=name(device, context.lang),
        room=device.room_in(context.lang) or "-",
        retired="" if device.active else context._(RETIRED),
    )


async def device(p: Press) -> View:
    """One device: room and floor, slots and places, kept-back places, weekly hours."""
    context, lang = p.context, p.context.lang
    async with context.services.uow() as uow:
        found = (await department_setup(uow)).devices.get(p.args.id(0))
    if found is None:
        raise NotFound()
    kind = MODALITY_NAMES.get(found.modality)
    text = context._(DEVICE).format(
        code=found.code,
        name=name(found, lang),
        retired="" if found.active else context._(RETIRED),
        modality=context._(kind) if kind else found.modality,
        room=found.room_in(lang) or "-",
        floor=digits(str(found.floor), lang) if found.floor is not None else "-",
        minutes=digits(str(found.slot_minutes), lang),
        places=digits(str(found.places_per_slot), lang),
        kept=_kept(context, found),
        hours="\n".join(week(context, found)),
    )
    extra = [(context._(TO_DEVICES), routes.SETUP()), (context._(TO_MENU), routes.STAFF_MENU())]
    return text, choices([], extra=extra)


def _kept(context: BotContext, device: DeviceView) -> str:
    parts = [
        context._(KEPT_SLOT if k.per == "slot" else KEPT_DAY).format(
            places=digits(str(k.places), context.lang),
            whom=context._(KEEP_NAMES.get(k.keep, k.keep)),
        )
        for k in device.kept
    ]
    joined = "، ".join(parts) if context.lang == "fa" else ", ".join(parts)
    return joined or context._(NOTHING_KEPT)


def week(context: BotContext, device: DeviceView) -> list[str]:
    """The weekly hours, Saturday first, days with the same hours together (closed days too)."""
    lang = context.lang
    by_day = [
        ", ".join(
            f"{format_time(s.starts, lang)}–{format_time(s.ends, lang)}"
            for s in sorted((s for s in device.hours if s.weekday == day), key=lambda s: s.starts)
        )
        or context._(CLOSED)
        for day in range(7)
    ]
    if lang == "fa":
        by_day = [hours.replace(", ", "، ") for hours in by_day]
    lines, first = [], 0
    for day in range(1, 8):
        if day < 7 and by_day[day] == by_day[first]:
            continue
        days = context._(WEEKDAYS[first])
        if day - 1 > first:
            days = context._(DAYS).format(first=days, last=context._(WEEKDAYS[day - 1]))
        lines.append(f"• {days}: {by_day[first]}")
        first = day
    return lines
