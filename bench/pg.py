"""The local PostgreSQL server the benchmarks use: a fresh database per run, dropped after."""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlalchemy.engine import make_url

from clinic.db import make_engine

PG_URL = os.environ.get("RADYAR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def create_pg_database(name: str) -> str | None:
    """A fresh database ``name`` on the local server (its URL), or None when unreachable."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {name}"))
    except OSError:
        return None
    finally:
        await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(name: str) -> None:
    """Drop ``name`` (connections still open to it are ended)."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        await admin.dispose()
