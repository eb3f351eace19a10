"""The department's setup kept by each process: a change anywhere is seen at once, a change
rolled back never, and an unchanged setup costs one small read per unit of work."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, update

from clinic.availability import bookable_days, bookable_times
from clinic.catalogue import get_exam
from clinic.closures import ClosureRequest, close, set_day
from clinic.db import make_engine, make_sessionmaker
from clinic.department_setup import department_setup
from clinic.jalali import TEHRAN
from clinic.models import Device, Exam, PrepStep, WorkingHours
from clinic.uow import UnitOfWork
from tests.conftest import ClinicEnv, _pg_engine_raw
from tests.factories import ADMIN, build_department

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.ext.asyncio import AsyncEngine

MONDAY = date(2026, 11, 30)


def second_process(env: ClinicEnv) -> AsyncEngine:
    """Another engine on the same database, as ``radyar worker`` or the CLI would have."""
    if env.dialect == "postgresql":
        return _pg_engine_raw()
    return make_engine(env.engine.url.render_as_string(hide_password=False))


def uow_of(env: ClinicEnv, engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(make_sessionmaker(engine), env.clock, env.policy)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_another_process_changing_an_exam_is_seen_at_the_next_unit_of_work(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        before = await get_exam(uow, "CT-BRAIN")
    other = second_process(env)
    try:
        async with uow_of(env, other) as uow:
            exam = await uow.session.get(Exam, dept.ct_brain.id)
            assert exam is not None
            exam.name_en = "CT head"
            uow.session.add(PrepStep(exam_id=exam.id, position=9, kind="bring",
                                     text_fa="کارت ملی", text_en="National card"))  # fmt: skip
            await uow.commit()
    finally:
        await other.dispose()
    async with env.uow() as uow:
        after = await get_exam(uow, "CT-BRAIN")
    assert before.name_en != "CT head"
    assert after.name_en == "CT head"
    assert [s.text_en for s in after.preparation][-1] == "National card"


async def test_a_device_taken_out_of_service_elsewhere_leaves_the_bookable_times(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        assert await bookable_times(uow, dept.ct_brain.id, MONDAY)
    other = second_process(env)
    try:
        async with uow_of(env, other) as uow:
            # A bulk update, as an operator's script would write it.
            await uow.session.execute(
                update(Device).where(Device.id == dept.ct.id).values(active=False)
            )
            await uow.commit()
    finally:
        await other.dispose()
    async with env.uow() as uow:
        assert await bookable_times(uow, dept.ct_brain.id, MONDAY) == []
        assert await bookable_days(uow, dept.ct_brain.id, days=7) == []


async def test_new_hours_are_seen_by_the_transaction_that_adds_them_and_then_by_all(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        setup = await department_setup(uow)
        shifts = len(setup.devices[dept.mri.id].hours)
        uow.session.add(
            WorkingHours(device_id=dept.mri.id, weekday=6, starts=time(8), ends=time(12))
        )
        await uow.session.flush()
        assert len((await department_setup(uow)).devices[dept.mri.id].hours) == shifts + 1
        await uow.commit()
    async with env.uow() as uow:
        assert len((await department_setup(uow)).devices[dept.mri.id].hours) == shifts + 1


async def test_a_change_rolled_back_is_never_seen(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
    async with env.uow() as uow:
        exam = await uow.session.get(Exam, dept.ct_brain.id)
        assert exam is not None
        exam.duration_minutes = 90
        await uow.session.flush()
        assert (await department_setup(uow)).exam(dept.ct_brain.id).duration_minutes == 90
        await uow.rollback()
        assert (await department_setup(uow)).exam(dept.ct_brain.id).duration_minutes == 15
    async with env.uow() as uow:
        assert (await department_setup(uow)).exam(dept.ct_brain.id).duration_minutes == 15


async def test_an_unchanged_setup_costs_one_small_read_per_unit_of_work(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        await department_setup(uow)
    with statements(env.engine) as seen:
        async with env.uow().reading() as uow:
            for _ in range(3):
                setup = await department_setup(uow)
                setup.active_exam(dept.ct_brain.id)
    setup_reads = [s for s in seen if "setup_version" in s or " exams" in s or "devices" in s]
    assert len(setup_reads) == 1
    assert "setup_version" in setup_reads[0]


async def test_a_closure_and_a_day_closed_in_another_process_are_seen_at_once(
    env: ClinicEnv,
) -> None:
    tuesday = MONDAY + timedelta(days=1)
    async with env.uow() as uow:
        dept = await build_department(uow)
        await uow.commit()
        assert await bookable_times(uow, dept.ct_brain.id, MONDAY)
        assert tuesday in [d.day for d in await bookable_days(uow, dept.ct_brain.id, days=7)]
    other = second_process(env)
    try:
        async with uow_of(env, other) as uow:
            whole_day = ClosureRequest(
                dept.ct.id,
                datetime.combine(MONDAY, time(0), tzinfo=TEHRAN),
                datetime.combine(tuesday, time(0), tzinfo=TEHRAN),
                "سرویس دستگاه",
            )
            await close(uow, ADMIN, whole_day)
            await set_day(uow, ADMIN, tuesday, is_open=False, note="تعطیل")
            await uow.commit()
    finally:
        await other.dispose()
    async with env.uow() as uow:
        assert await bookable_times(uow, dept.ct_brain.id, MONDAY) == []
        listed = [d.day for d in await bookable_days(uow, dept.ct_brain.id, days=7)]
    assert MONDAY not in listed
    assert tuesday not in listed
