"""Composition root: builds the engine and the unit-of-work factory from the settings."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from clinic.clock import Clock, SystemClock
from clinic.db import make_engine, make_sessionmaker
from clinic.uow import UnitOfWork
from notifier.peers import GuardStats, listener_stats

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from radyar.settings import Settings


@dataclass
class App:
    """The wired parts the commands use."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    guards: dict[str, GuardStats] = field(  # for /metrics
        default_factory=lambda: listener_stats(("mllp", "http", "webhook"))
    )

    def uow(self) -> UnitOfWork:
        """A fresh unit of work with the configured policy and department."""
        return UnitOfWork(
            self.sessionmaker, self.clock, self.settings.policy, self.settings.department
        )


def prepare_data_dir(settings: Settings) -> None:
    """Make the folder of an SQLite database file if it is not there yet."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def build_app(settings: Settings, clock: Clock | None = None) -> AsyncIterator[App]:
    """Create the engine (and the SQLite data folder); dispose of it on the way out."""
    prepare_data_dir(settings)
    engine = make_engine(settings.database_url)
    try:
        yield App(settings, engine, make_sessionmaker(engine), clock or SystemClock())
    finally:
        await engine.dispose()
