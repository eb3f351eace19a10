"""The department file with several sites: a file naming two hospitals sets up both, exports
back unchanged and one site at a time; a file per site changes only its own site; a database
set up before there were sites takes a one-site file, its devices joining the site."""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, func, select, update

from clinic.actors import Actor
from clinic.availability import bookable_times
from clinic.department_export import export_department
from clinic.department_file import DepartmentFileError, parse_department_file
from clinic.department_import import import_department
from clinic.errors import NotFound
from clinic.models import (
    Closure,
    Department,
    Device,
    DeviceExam,
    Exam,
    KeptPlaces,
    WorkingHours,
)
from tests.factories import build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

SYSTEM = Actor.system()
MONDAY = date(2026, 11, 30)  # the clock stands on Sunday 08:00
SITE_A_KEY = "bojnurd-imam-reza/radiology"
SITE_B_KEY = "shirvan-imam-khomeini/radiology"

BOJNURD = """\
- code: bojnurd-imam-reza
  name_fa: بیمارستان امام رضا (ع) بجنورد
  name_en: Imam Reza Hospital, Bojnurd
  county: بجنورد
  his_facility: BOJNURD-RIS
  departments:
  - code: radiology
    name_fa: بخش تصویربرداری
    name_en: Medical imaging
    phone: 058-3222-1000
    address_fa: بجنورد، خیابان امام رضا، بیمارستان امام رضا
    address_en: Imam Reza St, Bojnurd
    hours_fa: شنبه تا چهارشنبه، صبح و عصر
    hours_en: Saturday to Wednesday, mornings and evenings
    pickup_fa: باجه جواب‌دهی، طبقه همکف
    pickup_en: Results desk, ground floor
    devices:
    - code: CT-1
      modality: CT
      name_fa: سی‌تی‌اسکن
      name_en: CT
      slot_minutes: 15
      places_per_slot: 1
      exams: [CT-BRAIN, CT-ABD-C]
      shifts:
      - days: [sat-wed]
        hours: ['07:30-13:30']
      - days: [thu]
        hours: ['07:30-12:30']
    - code: MRI-1
      modality: MR
      name_fa: ام‌آر‌آی
      name_en: MRI
      slot_minutes: 30
      places_per_slot: 1
      exams: all
      shifts:
      - days: [sat-wed]
        hours: ['07:30-13:30', '15:00-21:00']
"""

SHIRVAN = """\
- code: shirvan-imam-khomeini
  name_fa: بیمارستان امام خمینی (ره) شیروان
  name_en: Imam Khomeini Hospital, Shirvan
  county: شیروان
  his_facility: SHIRVAN-RIS
  departments:
  - code: radiology
    name_fa: بخش تصویربرداری
    name_en: Medical imaging
    phone: 058-3622-2000
    pickup_fa: پذیرش تصویربرداری
    devices:
    - code: CT-SHIRVAN
      modality: CT
      name_fa: سی‌تی‌اسکن شیروان
      name_en: CT Shirvan
      slot_minutes: 15
      places_per_slot: 1
      exams: all
      shifts:
      - days: [sat-thu]
        hours: ['HOURS']
    closed:
    - from: 1405/09/16
      device: CT-SHIRVAN
      reason_fa: سرویس دستگاه
      reason_en: device service
"""


def department_file(*hospitals: str, hours: str = "07:30-13:30") -> str:
    """A department file naming ``hospitals`` (Shirvan's CT working ``hours``)."""
    return "hospitals:\n" + "".join(hospitals).replace("HOURS", hours)


TWO_SITES = department_file(BOJNURD, SHIRVAN)


async def add_catalogue(env: ClinicEnv) -> None:
    """The exams the files name, and no device nor site yet."""
    async with env.uow() as uow:
        uow.session.add_all(
            [
                Exam(code="CT-BRAIN", name_fa="سی‌تی‌اسکن مغز", name_en="CT brain",
                     modality="CT", body_part="head", duration_minutes=15),
                Exam(code="CT-ABD-C", name_fa="سی‌تی‌اسکن شکم با تزریق", name_en="CT abdomen",
                     modality="CT", body_part="abdomen", duration_minutes=30, contrast=True),
                Exam(code="MRI-KNEE", name_fa="ام‌آر‌آی زانو", name_en="MRI knee",
                     modality="MR", body_part="knee", duration_minutes=30),
            ]
        )  # fmt: skip
        await uow.commit()


Outcome = tuple[list[str], list[str], list[str], int]


async def imported(env: ClinicEnv, text: str) -> Outcome:
    """Import ``text`` and commit: (created, changed, unchanged) device codes, closures added."""
    async with env.uow() as uow:
        result = await import_department(uow, SYSTEM, text)
        await uow.commit()
    created, changed, unchanged = map(sorted, (result.created, result.changed, result.unchanged))
    return created, changed, unchanged, result.closures


async def exported(env: ClinicEnv, site: str | None = None) -> str:
    async with env.uow() as uow:
        return await export_department(uow, site=site)


async def counts(uow: UnitOfWork) -> list[int]:
    tables = (Department, Device, WorkingHours, DeviceExam, KeptPlaces, Closure)
    return [await uow.session.scalar(select(func.count()).select_from(t)) or 0 for t in tables]


async def site_of_devices(uow: UnitOfWork) -> dict[str, str | None]:
    """Each device's site, as ``hospital/department`` (None: no site)."""
    rows = await uow.session.execute(
        select(Device.code, Department.hospital_code, Department.code)
        .outerjoin(Department, Department.id == Device.department_id)
        .order_by(Device.code)
    )
    return {code: f"{h}/{d}" if h else None for code, h, d in rows.tuples()}


async def hours_of(uow: UnitOfWork, code: str) -> set[tuple[int, time, time]]:
    rows = await uow.session.execute(
        select(WorkingHours.weekday, WorkingHours.starts, WorkingHours.ends)
        .join(Device, Device.id == WorkingHours.device_id)
        .where(Device.code == code)
    )
    return set(rows.tuples())


async def phone_of(uow: UnitOfWork, hospital: str) -> str | None:
    found: str | None = await uow.session.scalar(
        select(Department.phone).where(Department.hospital_code == hospital)
    )
    return found


# 8. One file for two hospitals.


async def test_a_file_of_two_hospitals_sets_up_both_sites(env: ClinicEnv) -> None:
    await add_catalogue(env)
    assert await imported(env, TWO_SITES) == (["CT-1", "CT-SHIRVAN", "MRI-1"], [], [], 1)
    async with env.uow() as uow:
        rows = list(await uow.session.scalars(select(Department).order_by(Department.id)))
        devices = await site_of_devices(uow)
        closed = list(await uow.session.scalars(select(Closure)))
        ct_b = await uow.session.scalar(select(Device.id).where(Device.code == "CT-SHIRVAN"))
    site_rows = [
        (r.hospital_code, r.code, r.hospital_name_en, r.name_fa, r.county, r.his_facility)
        for r in rows
    ]
    assert site_rows == [
        ("bojnurd-imam-reza", "radiology", "Imam Reza Hospital, Bojnurd", "بخش تصویربرداری",
         "بجنورد", "BOJNURD-RIS"),
        ("shirvan-imam-khomeini", "radiology", "Imam Khomeini Hospital, Shirvan",
         "بخش تصویربرداری", "شیروان", "SHIRVAN-RIS"),
    ]  # fmt: skip
    bojnurd, shirvan = rows
    assert (bojnurd.phone, bojnurd.address_en, bojnurd.hours_en, bojnurd.pickup_fa) == (
        "058-3222-1000", "Imam Reza St, Bojnurd", "Saturday to Wednesday, mornings and evenings",
        "باجه جواب‌دهی، طبقه همکف",
    )  # fmt: skip
    assert (shirvan.phone, shirvan.pickup_fa, shirvan.address_fa) == (
        "058-3622-2000", "پذیرش تصویربرداری", ""
    )  # fmt: skip
    assert devices == {"CT-1": SITE_A_KEY, "CT-SHIRVAN": SITE_B_KEY, "MRI-1": SITE_A_KEY}
    assert [(c.device_id, c.reason_en) for c in closed] == [(ct_b, "device service")]

    # What is exported imports as it stands.
    text = await exported(env)
    async with env.uow() as uow:
        before = await counts(uow)
    assert await imported(env, text) == ([], [], ["CT-1", "CT-SHIRVAN", "MRI-1"], 0)
    async with env.uow() as uow:
        assert await counts(uow) == before
    assert await exported(env) == text

    # One site's file: that site only.
    only_b = await exported(env, SITE_B_KEY)
    hospitals, problems = parse_department_file(only_b)
    assert problems == []
    assert [(h.code, [d.code for d in h.departments]) for h in hospitals] == [
        ("shirvan-imam-khomeini", ["radiology"])
    ]
    (department,) = hospitals[0].departments
    assert [d.code for d in department.devices] == ["CT-SHIRVAN"]
    assert len(department.closed) == 1
    assert "bojnurd" not in only_b and "CT-1" not in only_b
    async with env.uow() as uow:
        with pytest.raises(NotFound):
            await export_department(uow, site="nowhere/radiology")


# 9. One file per site.


async def test_a_file_for_one_site_changes_that_site_only(env: ClinicEnv) -> None:
    await add_catalogue(env)
    await imported(env, TWO_SITES)
    async with env.uow() as uow:
        a_hours = await hours_of(uow, "CT-1")
        bojnurd = await phone_of(uow, "bojnurd-imam-reza")
    later = department_file(SHIRVAN, hours="08:00-14:00")
    # Site A's devices are not in this file, and that is no complaint: they are A's.
    assert await imported(env, later) == ([], ["CT-SHIRVAN"], [], 0)
    async with env.uow() as uow:
        assert await hours_of(uow, "CT-1") == a_hours
        assert await hours_of(uow, "CT-SHIRVAN") == {(d, time(8), time(14)) for d in range(6)}
        assert await site_of_devices(uow) == {
            "CT-1": SITE_A_KEY, "CT-SHIRVAN": SITE_B_KEY, "MRI-1": SITE_A_KEY
        }  # fmt: skip
        assert await phone_of(uow, "bojnurd-imam-reza") == bojnurd
        assert await uow.session.scalar(select(func.count(Closure.id))) == 1
    # The whole file, exported again, is the two-site file with Shirvan's new hours.
    assert "08:00-14:00" in await exported(env)

    # Site B's file may not take site A's CT.
    a_ct = BOJNURD[BOJNURD.index("    - code: CT-1") : BOJNURD.index("    - code: MRI-1")]
    taking = department_file(SHIRVAN.replace("    closed:", a_ct + "    closed:"))
    async with env.uow() as uow:
        with pytest.raises(DepartmentFileError) as refused:
            await import_department(uow, SYSTEM, taking)
    messages = [message for _, message in refused.value.problems]
    assert messages == [f"device CT-1 is {SITE_A_KEY}'s: a device stays at its site"]
    async with env.uow() as uow:
        assert (await site_of_devices(uow))["CT-1"] == SITE_A_KEY


# 10. Before there were sites.


async def test_devices_set_up_before_sites_join_the_site_a_file_names(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        # As a database set up before sites: no department row, devices of no site.
        await uow.session.execute(update(Device).values(department_id=None))
        await uow.session.execute(delete(Department))
        await uow.commit()
    async with env.uow() as uow:
        assert await site_of_devices(uow) == {"CT-1": None, "MRI-1": None}
    created, _, _, closures = await imported(env, department_file(BOJNURD))
    assert (created, closures) == ([], 0)
    async with env.uow() as uow:
        (site,) = await uow.session.scalars(select(Department))
        assert await site_of_devices(uow) == {"CT-1": SITE_A_KEY, "MRI-1": SITE_A_KEY}
        times = await bookable_times(uow, dept.ct_brain.id, MONDAY, site=site.id)
    assert (site.county, site.his_facility) == ("بجنورد", "BOJNURD-RIS")
    assert site.phone == "058-3222-1000"
    assert {t.device_id for t in times} == {dept.ct.id}


async def test_a_site_running_alone_takes_a_second_sites_file_as_a_new_site(
    env: ClinicEnv,
) -> None:
    # Bojnurd runs alone; Shirvan joins with a file of its own: Bojnurd stays as it was.
    await add_catalogue(env)
    await imported(env, department_file(BOJNURD))
    async with env.uow() as uow:
        before = await hours_of(uow, "CT-1")
    assert await imported(env, department_file(SHIRVAN)) == (["CT-SHIRVAN"], [], [], 1)
    async with env.uow() as uow:
        assert await site_of_devices(uow) == {
            "CT-1": SITE_A_KEY, "CT-SHIRVAN": SITE_B_KEY, "MRI-1": SITE_A_KEY
        }  # fmt: skip
        assert await hours_of(uow, "CT-1") == before
        assert await uow.session.scalar(select(func.count(Department.id))) == 2
