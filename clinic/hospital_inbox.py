"""What the hospital's systems sent that staff must look at: messages refused (kept masked, for
fixing at the source: ``clinic.message_mask``) and events no booking could be found for.

An event belongs to the site it came from and only staff who may see that site see it. A
refused message belongs to its sender's site when that is known; one that did not say (or could
not be read) is seen by university-wide staff only, since it may name any site's patients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic import audit, sites
from clinic.errors import NotFound
from clinic.message_mask import mask
from clinic.models import RejectedMessage, Role, UnmatchedEvent

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.message_mask import BodyKind
    from clinic.uow import UnitOfWork

MAX_KEPT_BODY = 64 * 1024
MASKED_AT_MOST = 4 * MAX_KEPT_BODY  # masking shortens HL7; a longer tail is not worth reading


async def keep_rejected(
    uow: UnitOfWork,
    source: str,
    reason: str,
    body: str,
    *,
    once: bool = False,
    site: int | None = None,
    kind: BodyKind | None = None,
) -> int:
    """Keep a message we could not accept for staff to inspect; returns its id.

    The body is masked before anything is stored or compared (``clinic.message_mask``: HL7,
    JSON or free text by ``kind``; None: told by its start); only its structure is kept.
    With ``once``, the same message (source, reason and body) still waiting for staff is not
    kept a second time (a source that repeats itself, like Orthanc's StableStudy). ``site``:
    the site whose system sent it, when known; staff of that site see it, and otherwise only
    university-wide staff (it may name another site's patients).
    """
    # PostgreSQL text cannot hold NUL: a message with one would never be kept (nor answered AR)
    body = mask(body[:MASKED_AT_MOST], kind)[:MAX_KEPT_BODY].replace("\x00", "\ufffd")
    reason = reason[:200].replace("\x00", "\ufffd")
    if once:
        seen = await uow.session.scalar(
            select(RejectedMessage.id).where(
                RejectedMessage.source == source,
                RejectedMessage.reason == reason,
                RejectedMessage.body == body,
                RejectedMessage.reviewed_at.is_(None),
            )
        )
        if seen is not None:
            return seen
    row = RejectedMessage(
        source=source,
        reason=reason,
        body=body,
        received_at=uow.clock.now(),
        site_id=site,
    )
    uow.session.add(row)
    await uow.session.flush()
    return row.id


async def rejected_messages(
    uow: UnitOfWork, actor: Actor, limit: int = 50
) -> list[RejectedMessage]:
    """Messages waiting for staff to look at (of the sites ``actor`` may see), oldest first."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    rows = await uow.session.scalars(
        select(RejectedMessage)
        .where(
            RejectedMessage.reviewed_at.is_(None),
            sites.in_scope(actor, RejectedMessage.site_id),
        )
        .order_by(RejectedMessage.received_at, RejectedMessage.id)
        .limit(limit)
    )
    return list(rows)


async def get_rejected(uow: UnitOfWork, actor: Actor, message_id: int) -> RejectedMessage:
    """One kept message for staff to read; NotFound when there is none with this id at a site
    ``actor`` may see."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    row = await uow.session.get(RejectedMessage, message_id)
    if row is None:
        raise NotFound()
    sites.require_site(actor, row.site_id)
    return row


async def mark_reviewed(uow: UnitOfWork, actor: Actor, message_id: int) -> None:
    """Staff looked at a kept message (and fixed it at the source); audited."""
    row = await get_rejected(uow, actor, message_id)
    if row.reviewed_at is None:
        row.reviewed_at = uow.clock.now()
        row.reviewed_by = actor.id
        await audit.record(uow, actor, "hospital.reviewed", "rejected_message", row.id)


async def get_unmatched(uow: UnitOfWork, actor: Actor, event_id: int) -> UnmatchedEvent:
    """One event waiting for staff; NotFound when there is none open with this id at a site
    ``actor`` may see."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    row = await uow.session.get(UnmatchedEvent, event_id)
    if row is None or row.resolved_at is not None:
        raise NotFound()
    sites.require_site(actor, row.site_id)
    return row


async def dismiss_unmatched(uow: UnitOfWork, actor: Actor, event_id: int) -> None:
    """Staff decide an event belongs to no appointment here (e.g. an inpatient exam); audited."""
    row = await get_unmatched(uow, actor, event_id)
    row.resolved_at = uow.clock.now()
    row.resolved_by = actor.id
    await audit.record(uow, actor, "hospital.dismissed", "unmatched_event", row.id)


async def waiting_counts(uow: UnitOfWork, actor: Actor) -> tuple[int, int]:
    """(events waiting for a booking, refused messages not yet reviewed), of the sites
    ``actor`` may see."""
    actor = actor.require_role(Role.RECEPTION, Role.REPORTING)
    events = await uow.session.scalar(
        select(func.count())
        .select_from(UnmatchedEvent)
        .where(
            UnmatchedEvent.resolved_at.is_(None),
            sites.in_scope(actor, UnmatchedEvent.site_id),
        )
    )
    refused = await uow.session.scalar(
        select(func.count())
        .select_from(RejectedMessage)
        .where(
            RejectedMessage.reviewed_at.is_(None),
            sites.in_scope(actor, RejectedMessage.site_id),
        )
    )
    return int(events or 0), int(refused or 0)
