"""Booking changes the hospital's systems did not take (clinic/outbound.py), shown next to the
hospital events waiting for staff: why, and sending one again or setting it aside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.keyboards import choices
from bot.staff.common import back
from bot.views import digits, when
from clinic import outbound
from clinic.i18n import N_

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, View

SHOWN = 20
BUTTON = N_("📤 Changes the hospital's systems did not take ({count})")
HEADER = N_(
    "Booking changes the hospital's systems did not take. Until one is sent again or set "
    "aside, that appointment's later changes wait behind it."
)
NONE = N_("Every booking change reached the hospital's systems.")
ONE = N_(
    "Event {id}: {kind}, appointment {code} ({day} {time})\nTo: {adapter}\n"
    "Tries: {attempts}\nWhat it answered: {answer}"
)
RETRY, SKIP = N_("🔁 Send again"), N_("✋ Entered there by hand: set aside")
RETRIED = N_("Event {id} will be sent again now.")
SKIPPED = N_("Event {id} is set aside; the appointment's later changes go on.")
TO_LIST = N_("‹ Changes not taken")
TO_EVENTS = N_("‹ Waiting events")  # the same words as bot.staff.events' button
KINDS = {
    "booked": N_("new appointment"),
    "moved": N_("appointment moved"),
    "admitted": N_("patient admitted"),
    "cancelled": N_("appointment cancelled"),
    "no_show": N_("patient did not come"),
}
ADAPTERS = {"hl7_siu": "RIS (HL7 SIU)", "hl7_orm": "RIS (HL7 ORM)", "fhir": "FHIR"}


def button(context: BotContext, count: int) -> tuple[str, str]:
    """The button on the hospital events overview."""
    return context._(BUTTON).format(count=digits(str(count), context.lang)), routes.OUT_FAILED()


def _kind(context: BotContext, kind: str) -> str:
    return context._(KINDS[kind]) if kind in KINDS else kind


async def failed(p: Press) -> View:
    """The refused events, oldest first, one button each."""
    context = p.context
    async with context.services.uow() as uow:
        rows = await outbound.failed(uow, p.actor, limit=SHOWN)
    to_events = (context._(TO_EVENTS), routes.EVENTS())
    if not rows:
        return context._(NONE), back(context, to_events)
    items = [
        (
            f"{digits(str(e.id), context.lang)} · {_kind(context, e.kind)} · "
            f"{digits(e.booking_code, context.lang)}",
            routes.OUT_FAILED_ONE(e.id),
        )
        for e in rows
    ]
    return context._(HEADER), choices(items, extra=[to_events])


async def failed_one(p: Press) -> View:
    """One refused event: what it told, of which appointment, what the receiver said."""
    context = p.context
    async with context.services.uow() as uow:
        event = await outbound.failed_event(uow, p.actor, p.args.id(0))
    day, at = when(event.starts_at, context.lang)
    text = context._(ONE).format(
        id=digits(str(event.id), context.lang),
        kind=_kind(context, event.kind),
        code=digits(event.booking_code, context.lang),
        day=day,
        time=at,
        adapter=ADAPTERS.get(event.adapter, event.adapter),
        attempts=digits(str(event.attempts), context.lang),
        answer=event.answer or "—",
    )
    return text, back(
        context,
        (context._(RETRY), routes.OUT_RETRY(event.id)),
        (context._(SKIP), routes.OUT_SKIP(event.id)),
        (context._(TO_LIST), routes.OUT_FAILED()),
    )


async def retry(p: Press) -> View:
    """Send it again (the hospital fixed what it refused)."""
    event_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await outbound.retry(uow, p.actor, event_id)
        await uow.commit()
    text = p.context._(RETRIED).format(id=digits(str(event_id), p.context.lang))
    return text, back(p.context, (p.context._(TO_LIST), routes.OUT_FAILED()))


async def skip(p: Press) -> View:
    """Set it aside (staff entered the change at the hospital themselves)."""
    event_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await outbound.skip(uow, p.actor, event_id)
        await uow.commit()
    text = p.context._(SKIPPED).format(id=digits(str(event_id), p.context.lang))
    return text, back(p.context, (p.context._(TO_LIST), routes.OUT_FAILED()))
