"""Seeding the demo department: devices, hours, staff and a health house, idempotently."""

from __future__ import annotations

from dataclasses import astuple
from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from clinic.demo import DemoSummary, seed_demo
from clinic.models import (
    Device,
    DeviceExam,
    Exam,
    HealthHouse,
    HealthWorker,
    PrepStep,
    Staff,
    WorkingHours,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

TABLES = (Exam, PrepStep, Device, DeviceExam, WorkingHours, Staff, HealthHouse, HealthWorker)


async def row_counts(uow: UnitOfWork) -> list[int]:
    return [
        await uow.session.scalar(select(func.count()).select_from(table)) or 0 for table in TABLES
    ]


async def devices(uow: UnitOfWork) -> dict[str, Device]:
    found = await uow.session.scalars(select(Device).options(selectinload(Device.hours)))
    return {d.code: d for d in found}


async def test_demo_department_is_ready_to_book(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        summary = await seed_demo(uow)
        await uow.commit()
        by_code = await devices(uow)
        staff = list(await uow.session.scalars(select(Staff).options(selectinload(Staff.roles))))
        house = await uow.session.scalar(select(HealthHouse))
        worker = await uow.session.scalar(select(HealthWorker))
    assert summary == DemoSummary(
        exams_created=27, exams_updated=0, questions=10, devices=9, device_exams=39,
        staff=5, health_houses=1, health_workers=1,
    )  # fmt: skip
    assert set(by_code) == {
        "CT-1", "MRI-1", "XR-1", "XR-2", "US-1", "US-2", "MG-1", "RF-1", "BMD-1",
    }  # fmt: skip
    assert by_code["CT-1"].name_fa == "سی‌تی‌اسکن ۱۶ اسلایس"
    assert (by_code["XR-1"].slot_minutes, by_code["XR-1"].places_per_slot) == (10, 2)
    roles = sorted(r.role for member in staff for r in member.roles)
    assert roles == ["admin", "broadcaster", "reception", "reception", "reporting"]
    assert all(m.telegram_user_id is None and m.bale_user_id is None for m in staff)
    assert all(m.created_at == env.clock.now() for m in staff)
    assert house is not None
    assert house.county == "شیروان"
    assert worker is not None
    assert worker.house_id == house.id


async def test_working_week_is_iranian(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
        by_code = await devices(uow)
    ct = {(h.weekday, h.starts, h.ends) for h in by_code["CT-1"].hours}
    xr = {(h.weekday, h.starts, h.ends) for h in by_code["XR-1"].hours}
    assert (0, time(7, 30), time(13, 30)) in ct  # Saturday morning
    assert (4, time(15, 0), time(21, 0)) in ct  # Wednesday evening
    assert (5, time(7, 30), time(12, 30)) in ct  # Thursday morning only
    assert len(ct) == 11
    assert len(xr) == 6
    assert all(h.weekday != 6 for device in by_code.values() for h in device.hours)  # Friday
    assert [h.weekday for h in by_code["RF-1"].hours] == [2]  # one morning a week


async def test_every_exam_can_be_done_on_some_device(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
        rows = await uow.session.execute(
            select(Exam.code, Exam.modality, Device.modality)
            .join(DeviceExam, DeviceExam.exam_id == Exam.id)
            .join(Device, Device.id == DeviceExam.device_id)
        )
        links = list(rows.tuples())
        exams = set(await uow.session.scalars(select(Exam.code)))
    assert {code for code, _, _ in links} == exams
    assert all(exam == device for _, exam, device in links)


async def test_seeding_twice_changes_nothing(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
        before = await row_counts(uow)
        again = await seed_demo(uow)
        await uow.commit()
        after = await row_counts(uow)
    assert set(astuple(again)) == {0}
    assert after == before
