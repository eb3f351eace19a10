"""Migrations: every revision upgrades and downgrades, and head matches the models."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text

from clinic import migrate
from clinic.db import Base, make_engine
from clinic.jalali import TEHRAN
from clinic.models import Closure, Department, Device, Report, SlotDay, SlotUsage
from tests.conftest import create_pg_database, drop_pg_database, require_pg

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy.engine import Connection


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


async def test_day_totals_are_filled_from_the_counter_rows_already_there(
    database_url: str,
) -> None:
    # A department that booked before revision 0007: its slot_usage rows become day totals
    # by Tehran day (00:15 Tehran is still the evening before in UTC).
    await migrate.upgrade(database_url, "0005")
    monday = datetime(2026, 11, 30, tzinfo=TEHRAN)
    rows = [(monday + timedelta(hours=h, minutes=m), used) for h, m, used in SLOTS]
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            made = await conn.execute(insert(Device).values(**DEVICE).returning(Device.id))
            device = made.scalar_one()
            await conn.execute(
                insert(SlotUsage),
                [
                    {"device_id": device, "starts_at": t, "used": used, "capacity": 2}
                    for t, used in rows
                ],
            )
        await migrate.upgrade(database_url)
        async with engine.connect() as conn:
            totals = (await conn.execute(select(SlotDay).order_by(SlotDay.day))).all()
    finally:
        await engine.dispose()
    assert [(t.day, t.slots, t.places_left) for t in totals] == [
        (date(2026, 11, 30), 3, 3),
        (date(2026, 12, 1), 1, 1),
    ]
    assert (totals[0].first_start, totals[0].last_start) == (rows[0][0], rows[2][0])
    assert totals[1].first_start == totals[1].last_start == rows[3][0]


DEVICE = {
    "code": "CT-1",
    "name_fa": "سی‌تی‌اسکن",
    "name_en": "CT",
    "modality": "CT",
    "slot_minutes": 15,
    "places_per_slot": 2,
}
SLOTS = [(8, 0, 1), (8, 15, 2), (23, 45, 0), (24, 15, 1)]  # Tehran time on 30 Nov; 24:15 is 1 Dec


async def test_a_department_from_before_sites_becomes_the_first_site(database_url: str) -> None:
    # Devices, a whole-department closure and a report from before revision 0015 all belong
    # to one site afterwards, made for them, and its accession numbers stay unique in it.
    await migrate.upgrade(database_url, "0014")
    engine = make_engine(database_url)
    now = datetime(2026, 11, 30, 8, tzinfo=TEHRAN)
    try:
        async with engine.begin() as conn:
            made = await conn.execute(insert(Device).values(**DEVICE).returning(Device.id))
            device = made.scalar_one()
            await conn.execute(
                text(
                    "INSERT INTO closures (starts_at, ends_at, reason_fa, reason_en, created_at)"
                    " VALUES (:t, :t, 'تعطیل', '', :t)"
                ),
                {"t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO reports (accession_number, status, pickup_code, created_at)"
                    " VALUES ('ACC-1', 'final', 'P1', :t)"
                ),
                {"t": now},
            )
        await migrate.upgrade(database_url)
        async with engine.connect() as conn:
            sites = (await conn.execute(select(Department.id, Department.code))).all()
            at = await conn.scalar(select(Device.department_id).where(Device.id == device))
            closed = await conn.scalar(select(Closure.department_id))
            report = await conn.scalar(select(Report.site_id))
    finally:
        await engine.dispose()
    assert [code for _, code in sites] == ["radiology"]
    assert at == closed == report == sites[0][0]
