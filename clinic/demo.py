"""The demo department: the catalogue, devices and hours, staff and a rural health house."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.catalogue import import_catalogue
from clinic.models import (
    Booking,
    ChatAccount,
    Device,
    DeviceExam,
    Exam,
    HealthHouse,
    HealthWorker,
    Modality,
    Patient,
    ProcessedUpdate,
    Role,
    Staff,
    StaffRole,
    WorkingHours,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

CATALOGUE = Path(__file__).parent / "data" / "catalogue.yaml"

Shift = tuple[time, time]
MORNING: Shift = (time(7, 30), time(13, 30))
EVENING: Shift = (time(15, 0), time(21, 0))
THURSDAY: Shift = (time(7, 30), time(12, 30))
SATURDAY_TO_WEDNESDAY = range(5)  # weekday 0 is Saturday; Friday (6) is closed
THURSDAY_WEEKDAY = 5
MONDAY_WEEKDAY = 2


@dataclass(frozen=True)
class DemoDevice:
    """A device the demo department gets, with its working days."""

    code: str
    name_fa: str
    name_en: str
    modality: Modality
    room: str
    room_en: str
    slot_minutes: int
    places_per_slot: int
    evening: bool = False  # CT and MRI also work 15:00-21:00, Saturday to Wednesday
    weekdays: tuple[int, ...] | None = None  # None: Saturday to Thursday mornings


DEVICES = (
    DemoDevice("CT-1", "سی‌تی‌اسکن ۱۶ اسلایس", "CT scanner, 16-slice", Modality.CT,
               "طبقه همکف، اتاق ۱۰۴", "Ground floor, room 104", 15, 1, evening=True),
    DemoDevice("MRI-1", "ام‌آر‌آی ۱٫۵ تسلا", "MRI 1.5 tesla", Modality.MRI,
               "طبقه همکف، اتاق ۱۰۸", "Ground floor, room 108", 15, 1, evening=True),
    DemoDevice("XR-1", "رادیوگرافی اتاق ۱", "Radiography room 1", Modality.RADIOGRAPHY,
               "طبقه همکف، اتاق ۱۰۱", "Ground floor, room 101", 10, 2),
    DemoDevice("XR-2", "رادیوگرافی اتاق ۲", "Radiography room 2", Modality.RADIOGRAPHY,
               "طبقه همکف، اتاق ۱۰۲", "Ground floor, room 102", 10, 2),
    DemoDevice("US-1", "سونوگرافی اتاق ۱", "Ultrasound room 1", Modality.ULTRASOUND,
               "طبقه اول، اتاق ۲۰۱", "First floor, room 201", 20, 1),
    DemoDevice("US-2", "سونوگرافی اتاق ۲", "Ultrasound room 2", Modality.ULTRASOUND,
               "طبقه اول، اتاق ۲۰۲", "First floor, room 202", 20, 1),
    DemoDevice("MG-1", "ماموگرافی", "Mammography", Modality.MAMMOGRAPHY,
               "طبقه اول، اتاق ۲۰۵", "First floor, room 205", 20, 1),
    DemoDevice("RF-1", "فلوروسکوپی", "Fluoroscopy", Modality.FLUOROSCOPY,
               "طبقه همکف، اتاق ۱۰۶", "Ground floor, room 106", 30, 1, weekdays=(MONDAY_WEEKDAY,)),
    DemoDevice("BMD-1", "تراکم استخوان", "Bone densitometry (DEXA)", Modality.BONE_DENSITOMETRY,
               "طبقه اول، اتاق ۲۰۷", "First floor, room 207", 15, 1),
)  # fmt: skip

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
    """Create whatever of the demo department is missing; never changes what exists.

    The caller commits. Raises CatalogueError only if the packaged catalogue is broken.
    """
    imported = await import_catalogue(uow, CATALOGUE)
    devices, links = await _devices(uow)
    staff = await _staff(uow)
    houses, workers = await _health_house(uow)
    await uow.session.flush()
    return DemoSummary(
        exams_created=imported.created,
        exams_updated=imported.updated,
        questions=imported.questions,
        devices=devices,
        device_exams=links,
        staff=staff,
        health_houses=houses,
        health_workers=workers,
    )


def _hours(spec: DemoDevice) -> list[WorkingHours]:
    if spec.weekdays is not None:
        return [WorkingHours(weekday=d, starts=MORNING[0], ends=MORNING[1]) for d in spec.weekdays]
    shifts = (MORNING, EVENING) if spec.evening else (MORNING,)
    rows = [
        WorkingHours(weekday=day, starts=starts, ends=ends)
        for day in SATURDAY_TO_WEDNESDAY
        for starts, ends in shifts
    ]
    rows.append(WorkingHours(weekday=THURSDAY_WEEKDAY, starts=THURSDAY[0], ends=THURSDAY[1]))
    return rows


async def _devices(uow: UnitOfWork) -> tuple[int, int]:
    """Add missing devices, then link every device to the exams of its modality."""
    existing = {d.code: d for d in await uow.session.scalars(select(Device))}
    created = 0
    for spec in DEVICES:
        if spec.code not in existing:
            existing[spec.code] = device = Device(
                code=spec.code, name_fa=spec.name_fa, name_en=spec.name_en,
                modality=spec.modality, room=spec.room, room_en=spec.room_en,
                slot_minutes=spec.slot_minutes,
                places_per_slot=spec.places_per_slot, hours=_hours(spec),
            )  # fmt: skip
            uow.session.add(device)
            created += 1
        elif not existing[spec.code].room_en:  # seeded before rooms had English names
            existing[spec.code].room_en = spec.room_en
    await uow.session.flush()
    demo = [existing[spec.code] for spec in DEVICES]
    return created, await _link_exams(uow, demo)


async def _link_exams(uow: UnitOfWork, devices: list[Device]) -> int:
    rows = await uow.session.execute(select(DeviceExam.device_id, DeviceExam.exam_id))
    linked = set(rows.tuples())
    exams = list(await uow.session.scalars(select(Exam)))
    new = [
        DeviceExam(device_id=device.id, exam_id=exam.id)
        for device in devices
        for exam in exams
        if exam.modality == device.modality and (device.id, exam.id) not in linked
    ]
    uow.session.add_all(new)
    return len(new)


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
