"""Staff broadcasts: an audience counted and previewed, then queued once through the outbox."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from clinic import audit, sites
from clinic.errors import Conflict, InvalidInput, NotFound
from clinic.i18n import N_
from clinic.jalali import tehran_datetime
from clinic.models import (
    ActorKind,
    Booking,
    BookingStatus,
    Broadcast,
    BroadcastStatus,
    Device,
    HealthWorker,
    OutboxMessage,
    Role,
)
from clinic.outbox import Notice, enqueue
from clinic.text import normalize_letters

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

MAX_TEXT = 1000  # leaves room in a 4096-character chat message and keeps SMS affordable
AUDIENCES = ("device", "future", "health_workers")
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)


@dataclass(frozen=True)
class Audience:
    """Who gets it: booked on a device between two days, anyone booked ahead (at one site, or
    at any), or all workers."""

    kind: str
    device_id: int | None = None
    first: date | None = None
    last: date | None = None
    site_id: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """The audience stored with a broadcast."""
        first, last = data.get("first"), data.get("last")
        return cls(
            data["kind"],
            data.get("device_id"),
            date.fromisoformat(first) if first else None,
            date.fromisoformat(last) if last else None,
            data.get("site_id"),
        )

    def as_json(self) -> dict[str, Any]:
        """Plain data for the broadcast row."""
        return {
            "kind": self.kind,
            "device_id": self.device_id,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "site_id": self.site_id,
        }


async def recipients(uow: UnitOfWork, audience: Audience) -> tuple[ActorKind, list[int]]:
    """(recipient kind, ids) of the audience, each person once."""
    if audience.kind == "health_workers":
        rows = await uow.session.scalars(
            select(HealthWorker.id).where(HealthWorker.active.is_(True)).order_by(HealthWorker.id)
        )
        return ActorKind.HEALTH_WORKER, list(rows)
    stmt = select(Booking.patient_id).where(Booking.status.in_(BOOKED)).distinct()
    if audience.kind == "future":
        stmt = stmt.where(Booking.starts_at >= uow.clock.now())
    elif audience.kind == "device" and audience.device_id and audience.first and audience.last:
        start = tehran_datetime(audience.first, time.min)
        end = tehran_datetime(audience.last + timedelta(days=1), time.min)
        stmt = stmt.where(
            Booking.device_id == audience.device_id,
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
    else:
        raise InvalidInput(N_("Please choose who should get the message."))
    if audience.site_id is not None:
        site_devices = select(Device.id).where(Device.department_id == audience.site_id)
        stmt = stmt.where(Booking.device_id.in_(site_devices))
    return ActorKind.PATIENT, sorted(await uow.session.scalars(stmt))


async def _placed(uow: UnitOfWork, actor: Actor, audience: Audience) -> Audience:
    """The audience within the sites ``actor`` works at: a device's is its site's; patients
    booked ahead are one site's for staff of some (their one site unless said). Raises
    NotFound (another site's device or site), InvalidInput (no site said among several)."""
    if audience.kind == "device" and audience.device_id is not None:
        site = await sites.device_site(uow, audience.device_id)
        sites.require_site(actor, site)
        return replace(audience, site_id=site)
    if audience.kind == "future" and actor.sites is not None:
        if audience.site_id is None and len(actor.sites) != 1:
            raise InvalidInput(N_("Please choose the site whose patients get the message."))
        site = audience.site_id if audience.site_id is not None else next(iter(actor.sites))
        sites.require_site(actor, site)
        return replace(audience, site_id=site)
    return audience


def check_text(raw: str) -> str:
    """The broadcast text, trimmed; empty or over 1000 characters is refused."""
    text = "\n".join(normalize_letters(line).strip() for line in raw.splitlines()).strip()
    if not text.strip():
        raise InvalidInput(N_("The message is empty."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("The message is too long: {length} characters, at most {limit}."),
            length=len(text),
            limit=MAX_TEXT,
        )
    return text


async def draft_broadcast(
    uow: UnitOfWork, actor: Actor, raw_text: str, audience: Audience
) -> tuple[Broadcast, int]:
    """Save a draft and count its audience (for the preview). Raises NotAllowed, InvalidInput."""
    actor = actor.require_role(Role.BROADCASTER)
    text = check_text(raw_text)
    audience = await _placed(uow, actor, audience)
    _, ids = await recipients(uow, audience)
    draft = Broadcast(
        staff_id=actor.id if actor.is_staff else None,
        text=text,
        audience=audience.as_json(),
        status=BroadcastStatus.DRAFT,
        total=len(ids),
        created_at=uow.clock.now(),
    )
    uow.session.add(draft)
    await uow.session.flush()
    return draft, len(ids)


async def send_broadcast(uow: UnitOfWork, actor: Actor, broadcast_id: int) -> Broadcast:
    """Queue a drafted broadcast, once: a second press (double tap) changes nothing.

    Raises NotAllowed, NotFound (also another site's), Conflict (already sent).
    """
    actor = actor.require_role(Role.BROADCASTER)
    found = await uow.session.get(Broadcast, broadcast_id)
    if found is None or not sites.may_act_at(actor, Audience.from_json(found.audience).site_id):
        raise NotFound()
    changed = await uow.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.DRAFT)
        .values(status=BroadcastStatus.QUEUED, queued_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    broadcast = await uow.session.get(Broadcast, broadcast_id, populate_existing=True)
    if broadcast is None:
        raise NotFound()
    if getattr(changed, "rowcount", 0) != 1:
        raise Conflict(N_("This message has already been sent."))
    audience = Audience.from_json(broadcast.audience)
    kind, ids = await recipients(uow, audience)
    for recipient in ids:
        await enqueue(
            uow,
            recipient_kind=kind,
            recipient_id=recipient,
            kind=Notice.BROADCAST,
            dedup_key=f"broadcast:{broadcast.id}:{kind}:{recipient}",
            params={"broadcast_id": broadcast.id},
            urgent=True,
        )
    broadcast.total = len(ids)
    await audit.record(uow, actor, "broadcast.send", "broadcast", broadcast.id, total=len(ids))
    return broadcast


async def get_broadcast(uow: UnitOfWork, broadcast_id: int) -> Broadcast | None:
    """A broadcast by id (draft or queued), for the operator's commands."""
    return await uow.session.get(Broadcast, broadcast_id)


async def recent_broadcasts(uow: UnitOfWork, limit: int) -> list[Broadcast]:
    """The newest ``limit`` broadcasts, newest first."""
    rows = await uow.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    return list(rows)


async def progress(uow: UnitOfWork, broadcast_id: int) -> dict[str, int]:
    """How many of the broadcast's messages are pending, sending, sent, failed, cancelled."""
    rows = await uow.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.dedup_key.like(f"broadcast:{broadcast_id}:%"))
        .group_by(OutboxMessage.status)
    )
    return {status: int(count) for status, count in rows.tuples()}
