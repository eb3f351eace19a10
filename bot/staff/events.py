"""Hospital events waiting for staff: reports and studies no booking matched, refused messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff import told
from bot.staff.common import TO_MENU, ask, back, waiting
from bot.views import digits, when
from clinic import audit, outbound
from clinic.booking import find_by_code
from clinic.hospital_inbox import (
    dismiss_unmatched,
    get_rejected,
    get_unmatched,
    mark_reviewed,
    rejected_messages,
    waiting_counts,
)
from clinic.i18n import N_
from clinic.message_shape import Shape, describe
from clinic.reports import resolve_unmatched, unmatched_events

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.models import RejectedMessage, UnmatchedEvent

SHOWN = 20
KEYS_SHOWN = 30
OVERVIEW = N_(
    "Hospital events waiting for staff:\n"
    "• {events} report or study events no appointment matched\n"
    "• {refused} messages refused as unreadable\n"
    "• {told} booking changes the hospital's systems did not take"
)
NOTHING = N_(
    "Nothing is waiting: every hospital event found its appointment, and the hospital's "
    "systems took every booking change."
)
TO_EVENTS = N_("‹ Waiting events")
REFUSED_BUTTON = N_("🚫 Refused messages ({count})")
KINDS = {
    "images_ready": N_("images ready"),
    "final": N_("report final"),
    "corrected": N_("report corrected"),
    "order": N_("HIS order"),
}
REASONS = {
    "ambiguous": N_("several appointments fit; not guessed"),
    "no booking": N_("no appointment fits"),
    "booking numbered": N_("the appointment that fits already has another number"),
    "conflict": N_("the number belongs to another appointment"),
}
EVENT = N_(
    "Event {id}: {kind}\nFrom: {source}\nAccession number: {accession}\nReceived: {received}\n"
    "Why it waits: {reason}"
)
NO_REASON = N_("no admitted appointment has this number yet")
LINK, DISMISS = N_("🔗 Link to an appointment"), N_("🗑 Not ours: dismiss")
ASK_CODE = N_("Please type the appointment code (7 digits) this event belongs to.")
LINKED = N_("Event {id} is linked to appointment {code}; the patient will be told.")
DISMISSED = N_("Event {id} is dismissed; nobody is told.")
REFUSED = N_(
    "Message {id} from {source}, received {received}\nWhy refused: {reason}\n\n{shape}\n\n"
    "Names, national codes and report text are masked; IT can read the rest in the database."
)
SHAPE_HL7 = N_("HL7 {type}, control id {control}\nSegments (fields): {segments}")
SHAPE_HL7_LINES = N_("Lines that are not segments: {count}")
SHAPE_JSON = N_("JSON with the keys: {keys}")
SHAPE_JSON_LIST = N_("JSON list of {count} items")
SHAPE_TEXT = N_("Text of {length} characters")
REVIEWED_BUTTON = N_("✅ Looked at: remove from the list")
REVIEWED = N_("Message {id} is marked as looked at.")
NO_REFUSED = N_("No refused messages are waiting.")


def _received(context: BotContext, row: UnmatchedEvent | RejectedMessage) -> str:
    day, at = when(row.received_at, context.lang)
    return f"{day} {at}"


async def overview(p: Press) -> View:
    """Counts and one button per waiting event (oldest first), then the refused messages."""
    context = p.context
    async with context.services.uow() as uow:
        events, refused = await waiting_counts(uow, p.actor)
        not_taken = await outbound.failed_count(uow, p.actor)
        waiting = (await unmatched_events(uow, p.actor))[:SHOWN]
    if not events and not refused and not not_taken:
        return context._(NOTHING), back(context)
    items = [
        (
            f"{digits(str(e.id), context.lang)} · {context._(KINDS.get(e.kind, e.kind))} · "
            f"{e.accession_number or '—'}",
            routes.EVENT(e.id),
        )
        for e in waiting
    ]
    extra = [(context._(REFUSED_BUTTON).format(count=digits(str(refused), context.lang)),
              routes.REFUSED())] if refused else []  # fmt: skip
    if not_taken:
        extra.append(told.button(context, not_taken))
    text = context._(OVERVIEW).format(
        events=digits(str(events), context.lang),
        refused=digits(str(refused), context.lang),
        told=digits(str(not_taken), context.lang),
    )
    return text, choices(items, extra=[*extra, (context._(TO_MENU), routes.STAFF_MENU())])


async def event(p: Press) -> View:
    """One waiting event with what can be done about it."""
    context = p.context
    event_id = p.args.id(0)
    async with context.services.uow() as uow:
        row = await get_unmatched(uow, p.actor, event_id)
    reason = row.payload.get("reason")
    text = context._(EVENT).format(
        id=digits(str(row.id), context.lang),
        kind=context._(KINDS.get(row.kind, row.kind)),
        source=row.source,
        accession=row.accession_number or "—",
        received=_received(context, row),
        reason=context._(REASONS[reason]) if reason in REASONS else context._(NO_REASON),
    )
    return text, back(
        context,
        (context._(LINK), routes.EVENT_LINK(row.id)),
        (context._(DISMISS), routes.EVENT_DISMISS(row.id)),
        (context._(TO_EVENTS), routes.EVENTS()),
    )


async def link_ask(p: Press) -> View:
    """Wait for the appointment code the event belongs to."""
    event_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await get_unmatched(uow, p.actor, event_id)
    ask(p.context, StaffInput(kind="event_booking", event=event_id))
    return p.context._(ASK_CODE), None


async def link_typed(t: Typed) -> View:
    """Link the event's accession number to that appointment; waiting events are applied."""
    context = t.context
    event_id = int(waiting(t).get("event", 0))
    async with context.services.uow() as uow:
        await get_unmatched(uow, t.actor, event_id)
        booking = await find_by_code(uow, t.actor, t.text)
        await resolve_unmatched(uow, t.actor, event_id, booking.id)
        await uow.commit()
    text = context._(LINKED).format(
        id=digits(str(event_id), context.lang), code=digits(booking.code, context.lang)
    )
    return text, back(context, (context._(TO_EVENTS), routes.EVENTS()))


async def dismiss(p: Press) -> View:
    """The event is not for any appointment here."""
    event_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await dismiss_unmatched(uow, p.actor, event_id)
        await uow.commit()
    text = p.context._(DISMISSED).format(id=digits(str(event_id), p.context.lang))
    return text, back(p.context, (p.context._(TO_EVENTS), routes.EVENTS()))


async def refused(p: Press) -> View:
    """Refused messages not yet looked at, one button each."""
    context = p.context
    async with context.services.uow() as uow:
        rows = await rejected_messages(uow, p.actor, limit=SHOWN)
    if not rows:
        return context._(NO_REFUSED), back(context, (context._(TO_EVENTS), routes.EVENTS()))
    items = [
        (
            f"{digits(str(m.id), context.lang)} · {m.source} · {m.reason[:40]}",
            routes.REFUSED_ONE(m.id),
        )
        for m in rows
    ]
    return context._(REFUSED_BUTTON).format(count=digits(str(len(rows)), context.lang)), choices(
        items, extra=[(context._(TO_EVENTS), routes.EVENTS())]
    )


def _shape(context: BotContext, shape: Shape) -> str:
    """What the message was (its structure, never its content), for the HIS team."""
    if shape.kind == "hl7":
        text = context._(SHAPE_HL7).format(
            type=shape.message_type or "—",
            control=shape.control_id or "—",
            segments=shape.segment_list() or "—",
        )
        if shape.other_lines:
            lines = context._(SHAPE_HL7_LINES).format(
                count=digits(str(shape.other_lines), context.lang)
            )
            text = f"{text}\n{lines}"
        return text
    if shape.kind == "json" and shape.items is not None:
        return context._(SHAPE_JSON_LIST).format(count=digits(str(shape.items), context.lang))
    if shape.kind == "json":
        keys = ", ".join(shape.keys[:KEYS_SHOWN]) + (" …" if len(shape.keys) > KEYS_SHOWN else "")
        return context._(SHAPE_JSON).format(keys=keys or "—")
    return context._(SHAPE_TEXT).format(length=digits(str(shape.length), context.lang))


async def refused_one(p: Press) -> View:
    """One refused message: why, and its structure, so staff can tell the HIS team what was
    wrong; its content stays in the database (masked). The look is audited."""
    context = p.context
    message_id = p.args.id(0)
    async with context.services.uow() as uow:
        row = await get_rejected(uow, p.actor, message_id)
        await audit.read(uow, p.actor, "rejected_message", row.id)
        await uow.commit()
    text = context._(REFUSED).format(
        id=digits(str(row.id), context.lang),
        source=row.source,
        received=_received(context, row),
        reason=row.reason,
        shape=_shape(context, describe(row.body)),
    )
    return text, back(
        context,
        (context._(REVIEWED_BUTTON), routes.REFUSED_REVIEWED(row.id)),
        (context._(TO_EVENTS), routes.EVENTS()),
    )


async def reviewed(p: Press) -> View:
    """Take a refused message off the list."""
    message_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await mark_reviewed(uow, p.actor, message_id)
        await uow.commit()
    text = p.context._(REVIEWED).format(id=digits(str(message_id), p.context.lang))
    return text, back(p.context, (p.context._(TO_EVENTS), routes.REFUSED()))
