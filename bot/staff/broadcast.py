"""Broadcaster: choose the audience, write the message, see the count and preview, send once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import routes
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff.admin import parse_days
from bot.staff.common import TO_MENU, ask, back, device_labels, waiting
from bot.views import digits
from clinic.broadcasts import MAX_TEXT, Audience, draft_broadcast, progress, send_broadcast
from clinic.department_setup import department_setup
from clinic.errors import Conflict
from clinic.i18n import N_
from clinic.models import Role

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View

WHO = N_("Who should get the message?")
BY_DEVICE = N_("📅 Patients booked on a device and dates")
FUTURE = N_("🗓 Everyone with an upcoming appointment")
WORKERS = N_("🏠 All health workers")
WHICH_DEVICE = N_("Which device?")
ASK_DAYS = N_(
    "Which days? Type one Jalali date (1405/09/10) or a range (1405/09/10 - 1405/09/12)."
)
ASK_TEXT = N_("Please type the message (at most {limit} characters).")
PREVIEW = N_("This message will go to {n} people:\n\n{text}")
SEND, DROP = N_("📣 Send"), N_("Do not send")
PROGRESS = N_("Message {id}: {total} in all.\nQueued: {queued}\nSent: {sent}\nFailed: {failed}")
REFRESH = N_("🔄 Refresh")
DROPPED = N_("The message was not sent.")


async def start(p: Press) -> View:
    """Choose the audience."""
    _ = p.context._
    items = [
        (_(BY_DEVICE), routes.BROADCAST_BY_DEVICE()),
        (_(FUTURE), routes.BROADCAST_FUTURE()),
        (_(WORKERS), routes.BROADCAST_WORKERS()),
    ]
    return _(WHO), choices(items, extra=[(_(TO_MENU), routes.STAFF_MENU())])


async def by_device(p: Press) -> View:
    """Choose the device."""
    async with p.context.services.uow() as uow:
        rows = (await department_setup(uow)).active_devices(
            p.actor.require_role(Role.BROADCASTER).sites
        )
        labels = await device_labels(uow, rows, p.context.lang)
        items = [(label, routes.BROADCAST_DEVICE(d.id)) for d, label in labels]
    extra = [(p.context._(TO_MENU), routes.STAFF_MENU())]
    return p.context._(WHICH_DEVICE), choices(items, columns=2, extra=extra)


async def device_chosen(p: Press) -> View:
    """Wait for the days."""
    ask(p.context, StaffInput(kind="bc_days", device=p.args.id(0)))
    return p.context._(ASK_DAYS), None


async def days_typed(t: Typed) -> View:
    """Remember the days; wait for the text."""
    first, last = parse_days(t.text)
    audience = Audience("device", waiting(t)["device"], first, last).as_json()
    return _ask_text(t.context, audience)


def _ask_text(context: BotContext, audience: dict[str, Any]) -> View:
    ask(context, StaffInput(kind="bc_text", audience=audience))
    limit = digits(str(MAX_TEXT), context.lang)
    return context._(ASK_TEXT).format(limit=limit), None


async def future(p: Press) -> View:
    """Anyone with an upcoming booking; wait for the text."""
    return _ask_text(p.context, Audience("future").as_json())


async def workers(p: Press) -> View:
    """Every active health worker; wait for the text."""
    return _ask_text(p.context, Audience("health_workers").as_json())


async def text_typed(t: Typed) -> View:
    """Save the draft (length-checked), count the audience, show the preview."""
    audience = Audience.from_json(waiting(t)["audience"])
    async with t.context.services.uow() as uow:
        draft, count = await draft_broadcast(uow, t.actor, t.text, audience)
        await uow.commit()
    _ = t.context._
    text = _(PREVIEW).format(n=digits(str(count), t.context.lang), text=draft.text)
    buttons = [(_(SEND), routes.BROADCAST_SEND(draft.id)), (_(DROP), routes.STAFF_MENU())]
    return text, choices(buttons, columns=2)


async def send(p: Press) -> View:
    """Queue it, once (a second tap is told it was already sent), then show progress."""
    broadcast_id = p.args.id(0)
    try:
        async with p.context.services.uow() as uow:
            await send_broadcast(uow, p.actor, broadcast_id)
            await uow.commit()
    except Conflict:
        pass  # a double tap: it was queued by the first; show how it is going
    return await progress_view(p, broadcast_id)


async def progress_view(p: Press, broadcast_id: int) -> View:
    """Queued, sent and failed so far, with a refresh button."""
    async with p.context.services.uow() as uow:
        counts = await progress(uow, broadcast_id)
    lang = p.context.lang
    n = {
        "id": broadcast_id,
        "total": sum(counts.values()),
        "queued": counts.get("pending", 0) + counts.get("sending", 0),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0) + counts.get("cancelled", 0),
    }
    text = p.context._(PROGRESS).format(**{k: digits(str(v), lang) for k, v in n.items()})
    return text, back(p.context, (p.context._(REFRESH), routes.BROADCAST_PROGRESS(broadcast_id)))


async def refresh(p: Press) -> View:
    """The progress again (the broadcaster role is checked at each press)."""
    return await progress_view(p, p.args.id(0))
