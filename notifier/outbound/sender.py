"""The outbound sender: claim one adapter's due events, tell the receiver one at a time, and
record what it said (sent; refused and kept for staff; or tried again later with backoff)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from clinic import outbound
from clinic.models import OutboundEvent, OutboxStatus
from clinic.outbound_views import event_view
from notifier.outbound.base import Delivery
from notifier.retry import backoff

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.outbound_views import OutboundBooking
    from clinic.uow import UnitOfWork
    from notifier.outbound.base import OutboundAdapter

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(hours=24)
MAX_PAUSE = 30.0  # seconds between tries while the receiver stays away


@dataclass
class OutboundSender:
    """Delivers one adapter's events in order per referral, at least once."""

    uow: Callable[[], UnitOfWork]
    adapter: OutboundAdapter
    batch: int = 50
    lease: timedelta = LEASE
    give_up_after: timedelta = GIVE_UP_AFTER
    idle_seconds: float = 1.0
    _away: int = 0  # batches in a row ended by the receiver's transport trouble

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many events were tried. A transient
        failure ends the batch (the rest are given back untried): the receiver is away or
        struggling, and the next events would only wait on the same time-out."""
        name = self.adapter.name
        async with self.uow() as uow:
            ids = await outbound.claim(uow, name, self.batch, self.lease)
        if not ids:
            self._away = 0
            return 0
        async with self.uow().reading() as uow:  # what each tells, read in one go
            views = [await _view(uow, event_id) for event_id in ids]
        for done, (event_id, view) in enumerate(zip(ids, views, strict=True)):
            delivery = await self._send(event_id, view)
            if not delivery.ok and delivery.transient:
                async with self.uow() as uow:
                    await outbound.release(uow, ids[done + 1 :])
                self._away += 1
                return done + 1
        self._away = 0
        return len(ids)

    async def _send(self, event_id: int, view: OutboundBooking | None) -> Delivery:
        if view is None:
            delivery = Delivery(False, "the booking is gone")
        else:
            try:
                delivery = await self.adapter.deliver(view, self.uow().clock.now())
            except Exception as exc:  # a bug in an adapter must not stop the others' events
                log.exception("outbound %s %s: adapter crashed", self.adapter.name, event_id)
                delivery = Delivery(False, f"not sent: {exc.__class__.__name__}", transient=True)
        async with self.uow() as uow:
            await self._record(uow, event_id, delivery)
        return delivery

    async def _record(self, uow: UnitOfWork, event_id: int, delivery: Delivery) -> None:
        event = await uow.session.get(OutboundEvent, event_id, with_for_update=True)
        if event is None or event.status != OutboxStatus.SENDING:
            return  # staff or another sender dealt with it meanwhile
        now = uow.clock.now()
        event.answer = delivery.shown  # the receiver's own text masked: it may quote a patient
        if delivery.ok:
            event.status, event.sent_at = OutboxStatus.SENT, now
        elif delivery.transient and now - event.created_at < self.give_up_after:
            event.status = OutboxStatus.PENDING
            event.next_attempt_at = backoff(event.attempts, now)
        else:
            if delivery.transient:
                hours = int(self.give_up_after.total_seconds() // 3600)
                event.answer = f"not delivered in {hours} h: {delivery.shown}"
            event.status = OutboxStatus.FAILED
            log.warning(
                "outbound %s %s (%s) failed: staff will see it", self.adapter.name, event.id,
                event.kind,
            )  # fmt: skip
        await uow.commit()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; pause when nothing is due, longer while the receiver
        stays away (up to 30 s), then close the adapter."""
        try:
            while not stop.is_set():
                try:
                    tried = await self.run_once()
                except Exception:  # the database away for a moment must not end the sender
                    log.exception("outbound %s: a round crashed", self.adapter.name)
                    tried = 0
                if self._away:
                    await _wait(stop, min(self.idle_seconds * (2**self._away), MAX_PAUSE))
                elif tried == 0:
                    await _wait(stop, self.idle_seconds)
        finally:
            await self.adapter.aclose()


async def _view(uow: UnitOfWork, event_id: int) -> OutboundBooking | None:
    event = await uow.session.get(OutboundEvent, event_id)
    if event is None:
        return None
    return await event_view(uow, event)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


__all__ = ["GIVE_UP_AFTER", "LEASE", "OutboundSender"]
