"""The unit of work: one session, one transaction; the caller commits."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinic.clock import Clock
from clinic.policy import Policy


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls back."""

    session: AsyncSession

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, policy: Policy
    ) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock
        self.policy = policy

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        await self.session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing returns the connection, which rolls back anything uncommitted, without
        # expiring the objects the caller still holds (their committed values stay readable).
        await self.session.close()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.session.get_bind().dialect.name

    async def commit(self) -> None:
        """Commit the transaction and start a fresh one on the same session."""
        await self.session.commit()
        await self.session.begin()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        if self.session.in_transaction():
            await self.session.rollback()
