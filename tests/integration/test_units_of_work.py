"""Units of work on SQLite: writers take turns in arrival order inside the process (not in
SQLite's busy handler), and a unit of work that only reads waits for no writer."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.models import DayOverride

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

_DAY = date(2026, 12, 1)


async def test_writers_take_turns_in_arrival_order(sqlite_env: ClinicEnv) -> None:
    order: list[int] = []

    async def write(n: int) -> None:
        async with sqlite_env.uow() as uow:
            await uow.session.scalar(select(func.count(DayOverride.day)))  # the write lock
            order.append(n)
            await asyncio.sleep(0.01)  # hold it a moment, as a real write does
            uow.session.add(DayOverride(day=_DAY.replace(day=n + 1), is_open=True, note=""))
            await uow.commit()

    await asyncio.gather(*(write(n) for n in range(20)))
    assert order == list(range(20))
    async with sqlite_env.uow().reading() as uow:
        assert len(list(await uow.session.scalars(select(DayOverride)))) == 20


async def test_a_reader_goes_ahead_while_a_writer_holds_the_database(
    sqlite_env: ClinicEnv,
) -> None:
    writing, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with sqlite_env.uow() as uow:
            uow.session.add(DayOverride(day=_DAY, is_open=False, note="آلودگی هوا"))
            await uow.session.flush()
            writing.set()
            await release.wait()
            await uow.commit()

    writer = asyncio.create_task(slow_writer())
    await writing.wait()
    async with sqlite_env.uow().reading() as uow:  # does not wait for the writer
        before = list(await uow.session.scalars(select(DayOverride)))
    assert before == []  # the writer's change is not committed yet
    release.set()
    await writer
    async with sqlite_env.uow().reading() as uow:
        assert [d.note for d in await uow.session.scalars(select(DayOverride))] == ["آلودگی هوا"]


async def test_readers_work_on_postgresql_too(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        uow.session.add(DayOverride(day=_DAY, is_open=True, note=""))
        await uow.commit()
    async with env.uow().reading() as uow:
        found = list(await uow.session.scalars(select(DayOverride.day)))
        await uow.commit()  # a reader may commit (nothing to write) and read on
        again = list(await uow.session.scalars(select(DayOverride.day)))
    assert found == again == [_DAY]
