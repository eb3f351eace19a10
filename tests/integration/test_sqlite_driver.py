"""The SQLite driver (one trip to aiosqlite's thread per statement) behaves as the stock one:
rows, counts, new ids, errors and rollbacks."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from clinic.models import DayOverride

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv


async def test_the_engine_uses_it_and_reads_and_writes_as_before(sqlite_env: ClinicEnv) -> None:
    assert sqlite_env.engine.dialect.driver == "radyar_aiosqlite"
    assert sqlite_env.engine.dialect.name == "sqlite"
    async with sqlite_env.uow() as uow:
        uow.session.add_all(
            DayOverride(day=date(2026, 12, n), is_open=n % 2 == 0, note=f"روز {n}")
            for n in range(1, 6)
        )
        await uow.session.flush()
        changed = await uow.session.execute(
            update(DayOverride).where(DayOverride.is_open.is_(False)).values(note="بسته")
        )
        assert getattr(changed, "rowcount", None) == 3
        await uow.commit()
    async with sqlite_env.uow().reading() as uow:
        notes = list(await uow.session.scalars(select(DayOverride.note).order_by(DayOverride.day)))
        assert notes == ["بسته", "روز 2", "بسته", "روز 4", "بسته"]
        assert await uow.session.scalar(text("SELECT 41 + 1")) == 42


async def test_errors_and_rollbacks_are_the_stock_ones(sqlite_env: ClinicEnv) -> None:
    async with sqlite_env.uow() as uow:
        uow.session.add(DayOverride(day=date(2026, 12, 1), is_open=True, note=""))
        await uow.commit()
    async with sqlite_env.uow() as uow:
        uow.session.add(DayOverride(day=date(2026, 12, 1), is_open=False, note="again"))
        with pytest.raises(IntegrityError):
            await uow.session.flush()
    async with sqlite_env.uow() as uow:
        with pytest.raises(OperationalError):
            await uow.session.execute(text("SELECT * FROM no_such_table"))
    async with sqlite_env.uow() as uow:
        await uow.session.execute(delete(DayOverride))
        await uow.rollback()
        assert await uow.session.scalar(select(func.count()).select_from(DayOverride)) == 1
