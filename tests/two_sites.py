"""Two sites whose RISes number their exams alike: Bojnurd (``build_department``'s) and Shirvan,
each with a CT doing the same exams, and bookings made and admitted at either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.jalali import TEHRAN
from clinic.models import Department as SiteRow
from clinic.models import Device, DeviceExam, Role, WorkingHours
from tests.factories import RECEPTION, Department, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.models import Booking, Exam
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

SITE_A_RIS = "BOJNURD-RIS"
SITE_B_RIS = "SHIRVAN-RIS"
MONDAY = date(2026, 11, 30)  # the day after the frozen clock's start


def at(hh: int, mm: int = 0) -> datetime:
    """Monday at ``hh:mm`` in Tehran."""
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


@dataclass
class TwoSites:
    """Site A (``dept``: its CT and MRI, and the exams) and site B with a CT of its own."""

    dept: Department
    site_a: int
    site_b: int
    ct_b: Device

    def reception_at(self, site: int) -> Actor:
        """Reception (staff 2) held to ``site``."""
        assert RECEPTION.id is not None
        return Actor.staff(RECEPTION.id, [Role.RECEPTION], sites=[site])


async def build_two_sites(uow: UnitOfWork) -> TwoSites:
    """``build_department`` (site A, its RIS ``BOJNURD-RIS``) and site B (``SHIRVAN-RIS``),
    whose CT does CT brain and CT abdomen too, Saturday to Thursday mornings."""
    dept = await build_department(uow)
    site_a = await uow.session.get(SiteRow, dept.site_id)
    assert site_a is not None
    site_a.his_facility = SITE_A_RIS
    site_b = SiteRow(
        hospital_code="shirvan-imam-khomeini",
        hospital_name_fa="بیمارستان امام خمینی (ره) شیروان",
        hospital_name_en="Imam Khomeini Hospital, Shirvan",
        code="radiology",
        name_fa="بخش تصویربرداری",
        name_en="Medical imaging",
        county="شیروان",
        his_facility=SITE_B_RIS,
    )
    uow.session.add(site_b)
    await uow.session.flush()
    ct_b = Device(
        code="CT-SHIRVAN",
        name_fa="سی‌تی‌اسکن شیروان",
        name_en="CT Shirvan",
        modality="CT",
        slot_minutes=15,
        places_per_slot=1,
        department_id=site_b.id,
        hours=[WorkingHours(weekday=d, starts=time(7, 30), ends=time(13, 30)) for d in range(6)],
    )
    uow.session.add(ct_b)
    await uow.session.flush()
    uow.session.add_all(
        [
            DeviceExam(device_id=ct_b.id, exam_id=dept.ct_brain.id),
            DeviceExam(device_id=ct_b.id, exam_id=dept.ct_contrast.id),
        ]
    )
    await uow.session.flush()
    return TwoSites(dept, dept.site_id, site_b.id, ct_b)


async def booked(
    uow: UnitOfWork, patient: int, exam: Exam, device: Device, start: datetime
) -> Booking:
    """``patient``'s confirmed booking for ``exam`` on ``device`` at ``start``."""
    me = Actor.patient(patient)
    referral = await approved_referral(uow, patient, exam)
    hold = await hold_slot(uow, me, referral, device.id, start)
    return await confirm_booking(uow, me, hold.id)


async def admit(uow: UnitOfWork, booking: Booking, accession: str | None) -> None:
    """Reception admits the booking, typing ``accession`` (None: none)."""
    await check_in(uow, RECEPTION, booking.id, accession_number=accession)


async def admitted_at_each(
    env: ClinicEnv, accession: str | None
) -> tuple[TwoSites, Booking, Booking]:
    """Patient 0 admitted at site A, patient 1 at site B, both at 09:00 Monday, each given
    ``accession`` by their own hospital's reception (None: none yet)."""
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        first, second = await add_patient(uow, 0), await add_patient(uow, 1)
        at_a = await booked(uow, first, two.dept.ct_brain, two.dept.ct, at(9))
        at_b = await booked(uow, second, two.dept.ct_brain, two.ct_b, at(9))
        await uow.commit()
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await admit(uow, at_a, accession)
        await admit(uow, at_b, accession)
        await uow.commit()
    return two, at_a, at_b
