"""Admin: close a device or the department with a preview, re-open, add staff and workers."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import CLOSURE, ClosureDraft, StaffInput
from bot.keyboards import choices
from bot.staff.common import TO_MENU, ask, back, device_labels, waiting
from bot.views import digits, name
from clinic.closures import (
    ClosureRequest,
    affected_bookings,
    cancel_closure,
    close,
    closures_ahead,
    set_day,
)
from clinic.department_setup import DeviceView, department_setup
from clinic.errors import InvalidInput, InvalidMobile
from clinic.i18n import N_
from clinic.identity import parse_mobile
from clinic.jalali import format_date, parse_jalali_date, tehran_datetime, to_tehran
from clinic.link_codes import issue_link_code
from clinic.models import Role
from clinic.sites import all_sites, may_act_at, require_site, site
from clinic.staff import add_health_worker, add_staff, health_houses
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View

WHOLE = N_("🏥 The whole department")
WHOLE_SITE = N_("🏥 All of {site}")
EVERY_SITE = N_("🏥 Every site")
WHAT_TO_CLOSE = N_("What should be closed?")
ASK_DAYS = N_(
    "Which day or days? Type one Jalali date (1405/09/10) or a range (1405/09/10 - 1405/09/12)."
)
ASK_WHY = N_("Please type the reason patients will see (for example: device repair).")
BAD_RANGE = N_("The last day must not be before the first.")
PREVIEW = N_(
    "Close {what} from {first} to {last}.\nReason for patients: {reason}\n\n"
    "{n} appointments are affected; each will be moved to the earliest free time (or "
    "cancelled if none is free) and the patient told."
)
CONFIRM_CLOSE, DONT = N_("⛔ Yes, close"), N_("No, leave it open")
CLOSED = N_(
    "Closed. {affected} appointments were affected: {moved} moved and {cancelled} cancelled; "
    "every patient has a notice queued."
)
NOTHING = N_("Nothing was changed.")
REOPEN = N_("Which closure should be lifted? Or re-open a day the calendar closes.")
OPEN_DAY = N_("📅 Open a closed day")
ASK_OPEN_DAY = N_("Which day should be open? Type a Jalali date (1405/10/02).")
LIFTED = N_("The closure is lifted; the times are bookable again.")
DAY_OPENED = N_("{date} is open for booking.")
ROLE_NAMES = {
    Role.ADMIN: N_("Admin"),
    Role.RECEPTION: N_("Reception"),
    Role.REPORTING: N_("Reporting"),
    Role.BROADCASTER: N_("Broadcaster"),
}
ROLE_LETTERS = {Role.ADMIN: "a", Role.RECEPTION: "r", Role.REPORTING: "p", Role.BROADCASTER: "b"}
CHOOSE_ROLES = N_("Which roles should the new staff member have? Then press Next.")
NEXT = N_("Next ›")
ASK_STAFF_NAME = N_(
    "Please type the new staff member's full name and mobile, e.g. نرگس محمدی 09151234567"
)
ASK_HOUSE = N_("Which health house?")
ASK_WORKER = N_(
    "Please type the health worker's full name and mobile, e.g. معصومه رضایی 09151234567"
)
NO_HOUSES = N_("There is no health house yet. Add one with the radyar command first.")
LINK_CODE = N_(
    "{name} is added. Their one-time link code is {code} (valid {hours} hours): they send "
    "/link {code} to this bot from their own account, then share its number, which must be "
    "the mobile you gave. A new code for them cancels this one."
)
_NAME_MOBILE = re.compile(r"(?P<name>.*?)\s*(?P<mobile>\+?[0-9][0-9 ()-]{8,})\s*", re.ASCII)
MAX_DAYS = 62


def _what(device: DeviceView | None, context: BotContext) -> str:
    return name(device, context.lang) if device else context._(WHOLE)


async def closure_start(p: Press) -> View:
    """Choose a device, or the whole department (each site whole, where there are several)."""
    context, actor = p.context, p.actor.require_role(Role.ADMIN)
    async with context.services.uow() as uow:
        rows = (await department_setup(uow)).active_devices(actor.sites)
        labels = await device_labels(uow, rows, context.lang)
        items = [(label, routes.CLOSURE_DEVICE(d.id)) for d, label in labels]
        mine = [s for s in await all_sites(uow) if may_act_at(actor, s.id)]
    wholes = [(context._(WHOLE), routes.CLOSURE_DEVICE(0))]
    if len(mine) > 1 or (mine and actor.sites is not None):
        wholes = [
            (context._(WHOLE_SITE).format(site=s.name(context.lang)), routes.CLOSURE_SITE(s.id))
            for s in mine
        ]
        if actor.sites is None:
            wholes.append((context._(EVERY_SITE), routes.CLOSURE_DEVICE(0)))
    extra = [*wholes, (context._(TO_MENU), routes.STAFF_MENU())]
    return context._(WHAT_TO_CLOSE), choices(items, columns=2, extra=extra)


async def closure_device(p: Press) -> View:
    """Wait for the day or range."""
    ask(p.context, StaffInput(kind="close_days", device=p.args.id(0)))
    return p.context._(ASK_DAYS), None


async def closure_site(p: Press) -> View:
    """A whole site, then the day or range (another site's is not found)."""
    require_site(p.actor.require_role(Role.ADMIN), p.args.id(0))
    ask(p.context, StaffInput(kind="close_days", device=0, site=p.args.id(0)))
    return p.context._(ASK_DAYS), None


def parse_days(text: str) -> tuple[date, date]:
    """One Jalali day, or two separated by a dash or «تا» (Persian digits fine)."""
    parts = [x for x in text.replace("تا", " - ").replace("–", " - ").split(" - ") if x.strip()]
    if not 1 <= len(parts) <= 2:
        raise InvalidInput(N_("That date does not exist. Please write it like 1403/12/30."))
    first, last = parse_jalali_date(parts[0]), parse_jalali_date(parts[-1])
    if last < first or (last - first).days > MAX_DAYS:
        raise InvalidInput(BAD_RANGE)
    return first, last


async def closure_days(t: Typed) -> View:
    """Remember the days; wait for the reason."""
    first, last = parse_days(t.text)
    state = StaffInput(
        kind="close_why",
        device=waiting(t)["device"],
        first=first.isoformat(),
        last=last.isoformat(),
    )
    if "site" in waiting(t):
        state["site"] = waiting(t)["site"]
    ask(t.context, state)
    return t.context._(ASK_WHY), None


def _request(draft: ClosureDraft) -> ClosureRequest:
    first, last = date.fromisoformat(draft["first"]), date.fromisoformat(draft["last"])
    return ClosureRequest(
        draft["device"] or None,
        tehran_datetime(first, time.min),
        tehran_datetime(last + timedelta(days=1), time.min),
        draft["reason"],
        site_id=draft.get("site"),
    )


async def closure_reason(t: Typed) -> View:
    """Preview: how many appointments the closure touches, before anything changes."""
    context = t.context
    state = waiting(t)
    draft = ClosureDraft(
        device=state["device"], first=state["first"], last=state["last"], reason=t.text[:500]
    )
    if "site" in state:
        draft["site"] = state["site"]
    request = _request(draft)
    async with context.services.uow() as uow:
        device = (await department_setup(uow)).devices.get(request.device_id or 0)
        whole = await site(uow, request.site_id) if device is None else None
        hit = await affected_bookings(uow, request)
    CLOSURE.put(context, draft)
    what = context._(WHOLE_SITE).format(site=whole.name(context.lang)) if whole else None
    text = context._(PREVIEW).format(
        what=what or _what(device, context),
        first=format_date(date.fromisoformat(draft["first"]), context.lang),
        last=format_date(date.fromisoformat(draft["last"]), context.lang),
        reason=draft["reason"],
        n=digits(str(len(hit)), context.lang),
    )
    buttons = [
        (context._(CONFIRM_CLOSE), routes.CLOSURE_CONFIRM()),
        (context._(DONT), routes.CLOSURE_DROP()),
    ]
    return text, choices(buttons, columns=2)


async def closure_confirm(p: Press) -> View:
    """Close: bookings are moved (or cancelled) and notices queued; a second tap finds nothing."""
    context = p.context
    draft = CLOSURE.drop(context)
    if draft is None:
        return context._(NOTHING), back(context)
    async with context.services.uow() as uow:
        result = await close(uow, p.actor, _request(draft))
        await uow.commit()
    n = {
        k: digits(str(v), context.lang)
        for k, v in (("affected", result.affected), ("moved", result.moved),
                     ("cancelled", result.cancelled))
    }  # fmt: skip
    return context._(CLOSED).format(**n), back(context)


async def closure_drop(p: Press) -> View:
    """Leave it open."""
    CLOSURE.drop(p.context)
    return p.context._(NOTHING), back(p.context)


async def reopen_start(p: Press) -> View:
    """Closures still ahead, one button each, and opening a day."""
    context = p.context
    async with context.services.uow() as uow:
        rows = await closures_ahead(uow, actor=p.actor.require_role(Role.ADMIN))
        devices = (await department_setup(uow)).devices
    items = [
        (f"{format_date(to_tehran(c.starts_at).date(), context.lang)} · "
         f"{_what(devices.get(c.device_id or 0), context)}", routes.REOPEN_CLOSURE(c.id))
        for c in rows
    ]  # fmt: skip
    return context._(REOPEN), back(context, *items, (context._(OPEN_DAY), routes.OPEN_DAY()))


async def reopen_closure(p: Press) -> View:
    """Lift one closure."""
    async with p.context.services.uow() as uow:
        await cancel_closure(uow, p.actor, p.args.id(0))
        await uow.commit()
    return p.context._(LIFTED), back(p.context)


async def open_day_ask(p: Press) -> View:
    """Wait for the day to open."""
    ask(p.context, StaffInput(kind="open_day"))
    return p.context._(ASK_OPEN_DAY), None


async def open_day(t: Typed) -> View:
    """Open a day the holiday calendar closes."""
    day = parse_jalali_date(t.text)
    async with t.context.services.uow() as uow:
        await set_day(uow, t.actor, day, is_open=True)
        await uow.commit()
    return t.context._(DAY_OPENED).format(date=format_date(day, t.context.lang)), back(t.context)


def _roles(p: Press) -> set[Role]:
    """The roles a toggle button carries, one letter each (``arp``), ignoring anything else."""
    letters = p.args.word_or_none(0) or ""
    return {role for role, letter in ROLE_LETTERS.items() if letter in letters}


def _letters(roles: set[Role]) -> str:
    return "".join(sorted(ROLE_LETTERS[r] for r in roles)) or "-"


async def roles_start(p: Press) -> View:
    """Choose the new member's roles (toggles), then Next."""
    chosen = _roles(p)
    items = []
    for role, label in ROLE_NAMES.items():
        mark = "☑️ " if role in chosen else "⬜ "
        items.append((mark + p.context._(label), routes.ROLES(_letters(chosen ^ {role}))))
    extra = [(p.context._(TO_MENU), routes.STAFF_MENU())]
    if chosen:
        extra.insert(0, (p.context._(NEXT), routes.ROLES_CHOSEN(_letters(chosen))))
    return p.context._(CHOOSE_ROLES), choices(items, columns=2, extra=extra)


async def roles_chosen(p: Press) -> View | None:
    """Wait for the name."""
    roles = sorted(r.value for r in _roles(p))
    if not roles:
        return None
    ask(p.context, StaffInput(kind="staff_name", roles=roles))
    return p.context._(ASK_STAFF_NAME), None


def name_and_mobile(text: str) -> tuple[str, str]:
    """«full name mobile» (Persian digits, spaces in the number fine). Raises InvalidMobile."""
    match = _NAME_MOBILE.fullmatch(normalize_digits(text).strip())
    if match is None:
        raise InvalidMobile()
    return match["name"], parse_mobile(match["mobile"])


def _code_view(t: Typed, full_name: str, code: str) -> View:
    hours = int(t.context.services.policy.link.code_lifetime.total_seconds() // 3600)
    text = t.context._(LINK_CODE).format(
        name=full_name, code=code, hours=digits(str(hours), t.context.lang)
    )
    return text, back(t.context)


async def staff_named(t: Typed) -> View:
    """Add the member (name, then mobile) and show their one-time link code."""
    full_name, mobile = name_and_mobile(t.text)
    async with t.context.services.uow() as uow:
        member = await add_staff(
            uow, t.actor, full_name=full_name, roles=waiting(t)["roles"], mobile=mobile
        )
        code = await issue_link_code(uow, t.actor, "staff", member.id)
        await uow.commit()
    return _code_view(t, member.full_name, code)


async def houses(p: Press) -> View:
    """Choose the health house."""
    async with p.context.services.uow() as uow:
        rows = await health_houses(uow)
        items = [(h.name, routes.HOUSE(h.id)) for h in rows]
    return p.context._(ASK_HOUSE if items else NO_HOUSES), back(p.context, *items)


async def house_chosen(p: Press) -> View:
    """Wait for the name and mobile."""
    ask(p.context, StaffInput(kind="worker", house=p.args.id(0)))
    return p.context._(ASK_WORKER), None


async def worker_typed(t: Typed) -> View:
    """Add the worker (name, then mobile) and show their one-time link code."""
    full_name, mobile = name_and_mobile(t.text)
    async with t.context.services.uow() as uow:
        worker = await add_health_worker(
            uow, t.actor, house_id=waiting(t)["house"], full_name=full_name, mobile=mobile
        )
        code = await issue_link_code(uow, t.actor, "health_worker", worker.id)
        await uow.commit()
    return _code_view(t, worker.full_name, code)
