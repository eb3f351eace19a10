"""The unit of work: one session, one transaction; the caller commits.

On SQLite, where one writer at a time holds the database, the writing units of work of one
process take turns in arrival order on an asyncio lock for their first transaction. Without it
they would all wait inside SQLite's busy handler, which sleeps and retries (up to 100 ms a try)
and lets a late comer overtake one that has waited for seconds. The turn ends with the first
commit: a unit of work that commits and then waits on the network (the outbox worker does)
must not keep others, or a unit of work it opens meanwhile, waiting; later transactions of it
queue in SQLite as before. Units of work that only read (``reading()``) take no turn and no
write lock: in WAL mode they read a snapshot.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol, Self, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy.exc import OperationalError

from clinic import department_setup as _setup_counter  # noqa: F401  (moves with setup writes)
from clinic.db import READ_ONLY
from clinic.policy import Department

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from clinic.clock import Clock
    from clinic.policy import Policy

_TURNS: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()
TURN_TIMEOUT = 30.0  # seconds, as clinic.db's busy_timeout


class CommitJob(Protocol):
    """Work done just before the transaction commits (in the same transaction)."""

    def __call__(self) -> Awaitable[None]:
        """Run the job; the unit of work awaits it just before it commits."""
        ...


J = TypeVar("J", bound=CommitJob)


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls back."""

    session: AsyncSession

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        policy: Policy,
        department: Department | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock
        self.policy = policy
        self.department = department or Department()  # how patients reach it (its phone…)
        self._read_only = False
        self._turn: asyncio.Lock | None = None
        self._jobs: dict[str, CommitJob] = {}
        self._after: dict[str, Callable[[], None]] = {}

    def reading(self) -> Self:
        """Declare that this unit of work only reads (it must not write)."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self._jobs, self._after = {}, {}
        engine = self.session.bind
        if not self._read_only and engine is not None and engine.dialect.name == "sqlite":
            turn = _TURNS.setdefault(engine.sync_engine, asyncio.Lock())
            try:
                # As long as SQLite's own busy timeout: waiting longer means something holds
                # the database, and the caller gets the error SQLite would give.
                await asyncio.wait_for(turn.acquire(), TURN_TIMEOUT)
            except TimeoutError:
                await self.session.close()
                locked = Exception("database is locked")
                raise OperationalError("BEGIN IMMEDIATE", {}, locked) from None
            self._turn = turn
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

    def job(self, key: str, make: Callable[[], J]) -> J:
        """The job ``key`` run just before the next commit, made by ``make`` the first time.

        A rollback drops it. For writes that must come last, in a fixed order (so that
        transactions never wait for each other in a cycle).
        """
        if key not in self._jobs:
            self._jobs[key] = make()
        return cast("J", self._jobs[key])  # one key, one kind of job

    def after_commit(self, key: str, call: Callable[[], None]) -> None:
        """Call ``call`` (once per ``key``) when the next commit has landed; a rollback
        drops it. For telling others in this process that something is there to be seen."""
        self._after.setdefault(key, call)

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
            self._end_turn()

    def _end_turn(self) -> None:
        if self._turn is not None:
            self._turn.release()
            self._turn = None

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
        after, self._after = list(self._after.values()), {}
        for call in after:
            call()
        self._end_turn()
        await self._begin()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        self._jobs, self._after = {}, {}
        if self.session.in_transaction():
            await self.session.rollback()
