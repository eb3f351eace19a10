"""The intake's own bookkeeping: webhook signatures already accepted (replays refused) and
where each event source (the Orthanc change feed) was read up to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from clinic.models import EventCursor, WebhookReceipt

if TYPE_CHECKING:
    from datetime import timedelta

    from clinic.uow import UnitOfWork


async def accept_signature(uow: UnitOfWork, signature: str, window: timedelta) -> bool:
    """Record a webhook signature; False when it was seen before (a replay).

    Receipts older than twice the window are pruned: a request that old fails the timestamp
    check anyway.
    """
    now = uow.clock.now()
    await uow.session.execute(
        delete(WebhookReceipt).where(WebhookReceipt.received_at < now - 2 * window)
    )
    if await uow.session.get(WebhookReceipt, signature) is not None:
        return False
    try:
        async with uow.session.begin_nested():
            uow.session.add(WebhookReceipt(signature=signature, received_at=now))
    except IntegrityError:  # another request with the same signature won the race
        return False
    return True


async def read_cursor(uow: UnitOfWork, name: str) -> int | None:
    """The stored position of an event source, or None before the first event."""
    row = await uow.session.get(EventCursor, name)
    return None if row is None else row.value


async def cursor_marker(uow: UnitOfWork, name: str) -> str | None:
    """What the source said at the stored position (None when not known)."""
    row = await uow.session.get(EventCursor, name)
    return None if row is None else row.marker


async def write_cursor(uow: UnitOfWork, name: str, value: int, marker: str | None = None) -> None:
    """Store the position (and what the source said there) in the caller's transaction, so it
    commits with the event it follows."""
    row = await uow.session.get(EventCursor, name)
    if row is None:
        row = EventCursor(name=name, value=value, marker=marker, updated_at=uow.clock.now())
        uow.session.add(row)
    else:
        row.value = value
        row.marker = marker
        row.updated_at = uow.clock.now()
    await uow.session.flush()
