"""Shared fixtures: a clinic on real SQLite and on real PostgreSQL, with a frozen clock."""

from __future__ import annotations

import asyncio
import atexit
import os

# python-telegram-bot 22 warns when RetryAfter carries whole seconds; with this it carries a
# timedelta (the future default), which our code expects. Set before telegram is imported.
os.environ.setdefault("PTB_TIMEDELTA", "true")
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from clinic.clock import FrozenClock
from clinic.db import Base, make_engine, make_sessionmaker
from clinic.department_setup import first_version
from clinic.jalali import TEHRAN
from clinic.models import SetupVersion
from clinic.policy import Policy
from clinic.uow import UnitOfWork

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

PG_URL = os.environ.get("RADYAR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("RADYAR_REQUIRE_SERVICES") == "1"
# Each pytest process gets its own schema, so parallel runs on one server never collide.
PG_SCHEMA = f"radyar_test_{os.getpid()}"

# Sunday 8 Azar 1405, 08:00 in Tehran: an ordinary working day.
START = datetime(2026, 11, 29, 8, 0, tzinfo=TEHRAN)


def _pg_engine_raw() -> AsyncEngine:
    return make_engine(PG_URL, connect_args={"server_settings": {"search_path": PG_SCHEMA}})


async def _pg_reachable() -> str | None:
    engine = make_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
    finally:
        await engine.dispose()


_pg_state: dict[str, str | None] = {}


async def _pg_unavailable() -> str | None:
    if "reason" not in _pg_state:
        _pg_state["reason"] = await _pg_reachable()
        if _pg_state["reason"] is None:
            await _pg_reset_schema()
    return _pg_state["reason"]


async def _pg_reset_schema() -> None:
    engine = _pg_engine_raw()
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()
    atexit.register(lambda: asyncio.run(_pg_drop_schema()))


async def _pg_drop_schema() -> None:
    engine = make_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    finally:
        await engine.dispose()


async def require_pg() -> None:
    """Skip (or, in CI, fail) when PostgreSQL is not there."""
    reason = await _pg_unavailable()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (RADYAR_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


async def create_pg_database(name: str) -> str:
    """Create an empty PostgreSQL database ``name`` (dropping an old one); return its URL."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(name: str) -> None:
    """Drop the database ``name`` if it exists."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        await admin.dispose()


def require_pg_sync() -> None:
    """``require_pg`` for synchronous tests."""
    reason = asyncio.run(_pg_reachable())
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (RADYAR_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


@dataclass
class ClinicEnv:
    """What a use-case test needs: a unit-of-work factory over a real database."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    policy: Policy
    dialect: str

    def uow(self, policy: Policy | None = None) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, self.clock, policy or self.policy)


async def _sqlite_engine(tmp_path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'clinic.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


async def _pg_engine() -> AsyncEngine:
    engine = _pg_engine_raw()
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The one row the migration (and a fresh create_all) puts there.
        await conn.execute(insert(SetupVersion).values(id=1, version=first_version()))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ClinicEnv]:
    """A clinic on a fresh database, once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        await require_pg()
        engine = await _pg_engine()
    else:
        engine = await _sqlite_engine(tmp_path)
    try:
        yield ClinicEnv(
            engine, make_sessionmaker(engine), FrozenClock(START), Policy(), request.param
        )
    finally:
        await engine.dispose()


@pytest.fixture
async def sqlite_env(tmp_path: Path) -> AsyncIterator[ClinicEnv]:
    """A clinic on SQLite only (for tests whose subject is not the database)."""
    engine = await _sqlite_engine(tmp_path)
    try:
        yield ClinicEnv(engine, make_sessionmaker(engine), FrozenClock(START), Policy(), "sqlite")
    finally:
        await engine.dispose()


UowFactory = Callable[[], UnitOfWork]
