"""The benchmark's own radiography department: suites for the chest X-ray, and two closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.catalogue import import_catalogue
from clinic.closures import ClosureRequest, close
from clinic.demo import CATALOGUE
from clinic.jalali import tehran_datetime
from clinic.models import Device, DeviceExam, Exam, WorkingHours

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

EXAM = "XR-CHEST"  # 10 minutes: one slot
SLOT_MINUTES = 10
PLACES = 6  # three X-ray rooms behind one desk, each taking a patient every 5 minutes
SHIFTS = ((time(7, 0), time(15, 0)), (time(15, 0), time(23, 0)))
WORKDAYS = range(6)  # Saturday to Thursday; Friday closed


@dataclass(frozen=True)
class Department:
    """The measured exam and the suites that perform it."""

    exam_id: int
    device_ids: list[int]


async def build_department(uow: UnitOfWork, devices: int) -> Department:
    """The packaged catalogue and ``devices`` radiography suites linked to the measured exam only.

    The demo department's devices are not created, so the bench's numbers do not depend on it.
    """
    await import_catalogue(uow, CATALOGUE)
    exam = await uow.session.scalar(select(Exam).where(Exam.code == EXAM))
    assert exam is not None, f"the catalogue has no {EXAM}"
    suites = [_suite(n) for n in range(1, devices + 1)]
    uow.session.add_all(suites)
    await uow.session.flush()
    uow.session.add_all(DeviceExam(device_id=d.id, exam_id=exam.id) for d in suites)
    await uow.session.flush()
    return Department(exam.id, [d.id for d in suites])


def _suite(n: int) -> Device:
    return Device(
        code=f"XR-S{n:02d}",
        name_fa=f"رادیوگرافی، سوئیت {n}",
        name_en=f"Radiography suite {n}",
        modality="CR",
        room=f"طبقه همکف، سوئیت {n}",
        room_en=f"Ground floor, suite {n}",
        slot_minutes=SLOT_MINUTES,
        places_per_slot=PLACES,
        hours=[
            WorkingHours(weekday=day, starts=starts, ends=ends)
            for day in WORKDAYS
            for starts, ends in SHIFTS
        ],
    )


async def add_closures(uow: UnitOfWork, dept: Department, first: date) -> None:
    """A suite's maintenance morning and a whole-department day off (air pollution)."""
    repair = first + timedelta(days=3)
    await close(
        uow,
        Actor.system(),
        ClosureRequest(
            dept.device_ids[0],
            tehran_datetime(repair, time(7, 0)),
            tehran_datetime(repair, time(11, 0)),
            "سرویس دوره‌ای دستگاه",
        ),
    )
    off = tehran_datetime(first + timedelta(days=9), time.min)
    await close(
        uow, Actor.system(), ClosureRequest(None, off, off + timedelta(days=1), "آلودگی هوا")
    )
