"""The demo department: the catalogue, the department file (devices, hours, places), staff
and a rural health house."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.catalogue import import_catalogue
from clinic.department_import import import_department
from clinic.models import (
    Booking,
    ChatAccount,
    DeviceExam,
    HealthHouse,
    HealthWorker,
    Patient,
    ProcessedUpdate,
    Role,
    Staff,
    StaffRole,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

CATALOGUE = Path(__file__).parent / "data" / "catalogue.yaml"
DEPARTMENT = Path(__file__).parent / "data" / "department.yaml"  # its devices, hours, places

STAFF = (
    ("علیرضا حسینی", (Role.ADMIN,)),
    ("فاطمه قربانی", (Role.RECEPTION,)),
    ("زهرا عباسی", (Role.RECEPTION,)),
    ("دکتر محمدرضا رحیمی", (Role.REPORTING,)),
    ("حسین شیروانی", (Role.BROADCASTER,)),
)
# Shirvan county, North Khorasan; the hospital itself is in Bojnurd.
HOUSE_NAME, HOUSE_VILLAGE, HOUSE_COUNTY = "خانه بهداشت روستای امیرآباد", "امیرآباد", "شیروان"
HEALTH_WORKER_NAME = "معصومه رضایی"
HEALTH_WORKER_MOBILE = "09150000001"  # a placeholder, not a real person's number


@dataclass(frozen=True)
class DemoSummary:
    """What one run added; a second run reports zeros everywhere."""

    exams_created: int
    exams_updated: int
    questions: int
    devices: int
    device_exams: int
    staff: int
    health_houses: int
    health_workers: int


async def seed_demo(uow: UnitOfWork) -> DemoSummary:
    """Create whatever of the demo department is missing; a second run changes nothing.

    The catalogue and then the department file are imported (devices matched by code), then
    the staff and the health house are added. The caller commits. Raises CatalogueError or
    DepartmentFileError only if a packaged file is broken, StrandedBookings if the database
    holds bookings the demo department's hours have no room for.
    """
    imported = await import_catalogue(uow, CATALOGUE)
    links = await _count(uow, DeviceExam)
    department = await import_department(
        uow, Actor.system(), DEPARTMENT.read_text(encoding="utf-8")
    )
    links = await _count(uow, DeviceExam) - links
    staff = await _staff(uow)
    houses, workers = await _health_house(uow)
    await uow.session.flush()
    return DemoSummary(
        exams_created=imported.created,
        exams_updated=imported.updated,
        questions=imported.questions,
        devices=len(department.created),
        device_exams=links,
        staff=staff,
        health_houses=houses,
        health_workers=workers,
    )


async def _count(uow: UnitOfWork, model: type[DeviceExam]) -> int:
    return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def _staff(uow: UnitOfWork) -> int:
    names = set(await uow.session.scalars(select(Staff.full_name)))
    now = uow.clock.now()
    new = [
        Staff(full_name=name, created_at=now, roles=[StaffRole(role=r) for r in roles])
        for name, roles in STAFF
        if name not in names
    ]
    uow.session.add_all(new)
    return len(new)


async def _health_house(uow: UnitOfWork) -> tuple[int, int]:
    house = await uow.session.scalar(select(HealthHouse).where(HealthHouse.name == HOUSE_NAME))
    houses = 0
    if house is None:
        house = HealthHouse(name=HOUSE_NAME, village=HOUSE_VILLAGE, county=HOUSE_COUNTY)
        uow.session.add(house)
        await uow.session.flush()
        houses = 1
    worker = await uow.session.scalar(
        select(HealthWorker.id).where(
            HealthWorker.house_id == house.id, HealthWorker.full_name == HEALTH_WORKER_NAME
        )
    )
    if worker is not None:
        return houses, 0
    uow.session.add(
        HealthWorker(
            house_id=house.id, full_name=HEALTH_WORKER_NAME, mobile=HEALTH_WORKER_MOBILE,
            created_at=uow.clock.now(),
        )
    )  # fmt: skip
    return houses, 1


@dataclass(frozen=True)
class Taken:
    """What a demo run must not reuse: update ids the bot handled, chat users, national codes."""

    last_update_id: int
    chat_users: frozenset[int]
    national_codes: frozenset[str]


async def taken(uow: UnitOfWork) -> Taken:
    """The ids earlier demo runs (or real use) already hold in this database."""
    last = await uow.session.scalar(select(func.max(ProcessedUpdate.update_id)))
    users = await uow.session.scalars(select(ChatAccount.user_id))
    codes = await uow.session.scalars(select(Patient.national_code))
    return Taken(int(last or 0), frozenset(users), frozenset(codes))


async def latest_booking(uow: UnitOfWork, national_code: str) -> Booking | None:
    """The demo patient's newest booking (the demo knows its own patient's national code)."""
    booking: Booking | None = await uow.session.scalar(
        select(Booking)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Patient.national_code == national_code)
        .order_by(Booking.id.desc())
    )
    return booking
