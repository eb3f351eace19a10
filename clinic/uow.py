"""The unit of work: one session, one transaction; the caller commits.

On SQLite, where one writer at a time holds the database, the writing units of work of one
process take turns in arrival order on an asyncio lock before they begin. Without it they
would all wait inside SQLite's busy handler, which sleeps and retries (up to 100 ms a try) and
lets a late comer overtake one that has waited for seconds. Units of work that only read
(``reading()``) take no turn and no write lock: in WAL mode they read a snapshot.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinic.clock import Clock
from clinic.db import READ_ONLY
from clinic.policy import Policy

_TURNS: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls back."""

    session: AsyncSession

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, policy: Policy
    ) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock
        self.policy = policy
        self._read_only = False
        self._turn: asyncio.Lock | None = None

    def reading(self) -> Self:
        """Declare that this unit of work only reads (it must not write)."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        engine = self.session.bind
        if not self._read_only and engine is not None and engine.dialect.name == "sqlite":
            self._turn = _TURNS.setdefault(engine.sync_engine, asyncio.Lock())
            await self._turn.acquire()
        try:
            await self._begin()
        except BaseException:
            await self._end()
            raise
        return self

    async def _begin(self) -> None:
        await self.session.begin()
        if self._read_only:
            await self.session.connection(execution_options={READ_ONLY: True})

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._end()

    async def _end(self) -> None:
        # Closing returns the connection, which rolls back anything uncommitted, without
        # expiring the objects the caller still holds (their committed values stay readable).
        try:
            await self.session.close()
        finally:
            if self._turn is not None:
                self._turn.release()
                self._turn = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.session.get_bind().dialect.name

    async def commit(self) -> None:
        """Commit the transaction and start a fresh one on the same session."""
        await self.session.commit()
        await self._begin()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        if self.session.in_transaction():
            await self.session.rollback()
