"""Migrations: every revision upgrades and downgrades, and head matches the models."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from clinic import migrate
from clinic.db import Base, make_engine
from tests.conftest import create_pg_database, drop_pg_database, require_pg


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each kind, made for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    await require_pg()
    name = f"radyar_migrate_{os.getpid()}"
    yield await create_pg_database(name)
    await drop_pg_database(name)


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_head_matches_the_models_and_every_step_reverses(database_url: str) -> None:
    await migrate.upgrade(database_url)
    assert await _tables(database_url) == set(Base.metadata.tables)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    revisions = [r.revision for r in script.walk_revisions()]  # newest first
    for revision in revisions:
        down = script.get_revision(revision).down_revision
        await migrate.downgrade(database_url, str(down) if down else "base")
    assert await _tables(database_url) == set()
    await migrate.upgrade(database_url)
    assert await _tables(database_url) == set(Base.metadata.tables)
