"""The department's own clock-driven work, run beside the bot and the outbox workers: the
confirmed bookings of days that have ended become no-shows, and the failed-/link counts of
accounts whose window has passed are forgotten."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from clinic import audit_chain, link_limits, retention
from clinic.actors import Actor
from clinic.files import FileStore
from clinic.no_shows import BATCH, close_past_days

if TYPE_CHECKING:
    from datetime import timedelta

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


async def forget_link_failures(app: App) -> int:
    """Drop the /link throttle rows that no longer hold anyone back; how many."""
    async with app.uow() as uow:
        gone = await link_limits.prune(uow)
        await uow.commit()
    return gone


async def seal_audit(app: App, settle: timedelta = audit_chain.SETTLE) -> int:
    """Seal the audit entries written since the last round into the hash chain; how many."""
    sealed = 0
    while True:
        async with app.uow() as uow:
            done = await audit_chain.seal(uow, settle=settle)
            await uow.commit()
        sealed += done
        if done < audit_chain.BATCH:
            return sealed


RETENTION_EVERY = 86400.0  # once a day


async def apply_retention(app: App) -> retention.RetentionReport:
    """Remove what is past its time (RADYAR_RETAIN_*); what was removed."""
    files = FileStore(app.settings.data_dir / "files")
    async with app.uow() as uow:
        report = await retention.run(uow, files, app.settings.retention)
        await uow.commit()
    log.info("retention: %s", report)
    return report


async def housekeeping(app: App, stop: asyncio.Event, every: float = EVERY) -> None:
    """``day_end`` and ``forget_link_failures`` every ``every`` seconds until ``stop`` is set;
    a failed round is logged and the next one tries again (it must never stop the bot or
    delivery)."""
    last_retention = -RETENTION_EVERY
    while not stop.is_set():
        try:
            await day_end(app)
            await forget_link_failures(app)
            await seal_audit(app)
            now = asyncio.get_running_loop().time()
            if now - last_retention >= RETENTION_EVERY:
                await apply_retention(app)
                last_retention = now
        except Exception:  # a database hiccup: the next round catches up
            log.exception("housekeeping round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
