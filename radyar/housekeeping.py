"""The department's own clock-driven work, run beside the bot and the outbox workers: the
confirmed bookings of days that have ended become no-shows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from clinic.actors import Actor
from clinic.no_shows import BATCH, close_past_days

if TYPE_CHECKING:
    from radyar.app import App

log = logging.getLogger(__name__)
EVERY = 600.0  # seconds between rounds: a day's end is noticed within ten minutes


async def day_end(app: App) -> int:
    """Mark every past day's unadmitted confirmed booking as a no-show; how many."""
    marked = 0
    while True:
        async with app.uow() as uow:
            done = await close_past_days(uow, Actor.system())
            await uow.commit()
        marked += done
        if done < BATCH:
            return marked


async def housekeeping(app: App, stop: asyncio.Event, every: float = EVERY) -> None:
    """``day_end`` every ``every`` seconds until ``stop`` is set; a failed round is logged
    and the next one tries again (it must never stop the bot or delivery)."""
    while not stop.is_set():
        try:
            await day_end(app)
        except Exception:  # a database hiccup: the next round catches up
            log.exception("housekeeping round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
