"""The unit of work: one session, one transaction; the caller commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinic.clock import Clock
from clinic.policy import Policy


class CommitJob(Protocol):
    """Work done just before the transaction commits (in the same transaction)."""

    def __call__(self) -> Awaitable[None]: ...


J = TypeVar("J", bound=CommitJob)


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls back."""

    session: AsyncSession

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, policy: Policy
    ) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock
        self.policy = policy
        self._jobs: dict[str, CommitJob] = {}

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self._jobs = {}
        await self.session.begin()
        return self

    def job(self, key: str, make: Callable[[], J]) -> J:
        """The job ``key`` run just before the next commit, made by ``make`` the first time.

        A rollback drops it. For writes that must come last, in a fixed order (so that
        transactions never wait for each other in a cycle).
        """
        if key not in self._jobs:
            self._jobs[key] = make()
        return cast(J, self._jobs[key])  # one key, one kind of job

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
        jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            await job()
        await self.session.commit()
        await self.session.begin()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        self._jobs = {}
        if self.session.in_transaction():
            await self.session.rollback()
