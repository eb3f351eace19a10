"""Small, explicit departments and patients for the use-case tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING

from clinic.actors import Actor
from clinic.identity import parse_national_code
from clinic.identity_checks import Asker, Proof, check_code, code_sms, send_code
from clinic.models import Department as SiteRow
from clinic.models import (
    Device,
    DeviceExam,
    Exam,
    ExamScreening,
    IdentityCheck,
    PrepStep,
    Role,
    ScreeningQuestion,
    Staff,
    StaffRole,
    WorkingHours,
)
from clinic.patients import PatientDetails, register_patient
from clinic.referrals import ReferralRequest, submit_referral

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

# Valid national codes (mod-11 check digit), all different.
NATIONAL_CODES = [
    "0499370899",
    "0790419904",
    "0084575948",
    "0963695398",
    "0684159414",
    "0067749828",
    "0650451252",
    "1583250689",
    "4032152314",
    "0076229645",
    "4271467685",
    "4400276201",
    "2540201288",
]

ADMIN = Actor.staff(1, [Role.ADMIN])
RECEPTION = Actor.staff(2, [Role.RECEPTION])


def national_code(n: int) -> str:
    """The n-th valid national code; past the fixed list, computed with the check digit."""
    if n < len(NATIONAL_CODES):
        return NATIONAL_CODES[n]
    body = f"{100000000 + n * 7919:09d}"[-9:]
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


@dataclass
class Department:
    """Ids of what ``build_department`` made."""

    ct: Device
    mri: Device
    ct_brain: Exam
    ct_contrast: Exam
    mri_knee: Exam
    pregnancy: ScreeningQuestion
    pacemaker: ScreeningQuestion
    site_id: int = 0  # the site both devices belong to


def _hours(device: Device, *shifts: tuple[time, time], thursday: tuple[time, time] | None) -> None:
    for weekday in range(5):  # Saturday .. Wednesday
        for start, end in shifts:
            device.hours.append(WorkingHours(weekday=weekday, starts=start, ends=end))
    if thursday:
        device.hours.append(WorkingHours(weekday=5, starts=thursday[0], ends=thursday[1]))


async def build_department(uow: UnitOfWork, *, ct_places: int = 1) -> Department:
    """A CT (15-minute slots) and an MRI (30-minute slots), Saturday-Thursday mornings.

    Also the staff behind ``ADMIN`` (id 1) and ``RECEPTION`` (id 2).
    """
    now = uow.clock.now()
    admin = Staff(full_name="مدیر بخش", created_at=now, roles=[StaffRole(role="admin")])
    uow.session.add(admin)
    await uow.session.flush()
    reception = Staff(full_name="پذیرش", created_at=now, roles=[StaffRole(role="reception")])
    uow.session.add(reception)
    await uow.session.flush()
    assert (admin.id, reception.id) == (ADMIN.id, RECEPTION.id)
    site = SiteRow(
        hospital_code="bojnurd-imam-reza",
        hospital_name_fa="بیمارستان امام رضا (ع) بجنورد",
        hospital_name_en="Imam Reza Hospital, Bojnurd",
        code="radiology",
        name_fa="بخش تصویربرداری",
        name_en="Medical imaging",
        county="بجنورد",
    )
    uow.session.add(site)
    await uow.session.flush()
    pregnancy = ScreeningQuestion(
        code="pregnancy",
        text_fa="آیا باردار هستید یا احتمال بارداری دارید؟",
        text_en="Are you or might you be pregnant?",
        blocking_answer=True,
        female_only=True,
        min_age=10,
        max_age=55,
    )
    pacemaker = ScreeningQuestion(
        code="pacemaker",
        text_fa="آیا ضربان‌ساز قلب دارید؟",
        text_en="Do you have a cardiac pacemaker?",
        blocking_answer=True,
    )
    ct = Device(
        code="CT-1",
        name_fa="سی‌تی‌اسکن",
        name_en="CT",
        modality="CT",
        slot_minutes=15,
        places_per_slot=ct_places,
        department_id=site.id,
        hours=[],
    )
    _hours(ct, (time(7, 30), time(13, 30)), thursday=(time(7, 30), time(12, 30)))
    mri = Device(
        code="MRI-1",
        name_fa="ام‌آر‌آی",
        name_en="MRI",
        modality="MR",
        slot_minutes=30,
        places_per_slot=1,
        department_id=site.id,
        hours=[],
    )
    _hours(mri, (time(7, 30), time(13, 30)), (time(15, 0), time(21, 0)), thursday=None)
    ct_brain = Exam(
        code="CT-BRAIN",
        name_fa="سی‌تی‌اسکن مغز بدون تزریق",
        name_en="CT brain",
        modality="CT",
        body_part="head",
        duration_minutes=15,
        preparation=[],
        screening=[],
    )
    ct_contrast = Exam(
        code="CT-ABD-C",
        name_fa="سی‌تی‌اسکن شکم و لگن با تزریق",
        name_en="CT abdomen, contrast",
        modality="CT",
        body_part="abdomen",
        duration_minutes=30,
        contrast=True,
        needs_review=True,
        screening=[],
        preparation=[
            PrepStep(
                position=1,
                kind="fasting",
                hours_before=6,
                text_fa="از ۶ ساعت قبل چیزی نخورید.",
                text_en="Nothing to eat for 6 hours.",
            ),
            PrepStep(
                position=2,
                kind="lab",
                hours_before=None,
                text_fa="آزمایش کراتینین همراه داشته باشید.",
                text_en="Bring a creatinine test.",
            ),
        ],
    )
    mri_knee = Exam(
        code="MRI-KNEE",
        name_fa="ام‌آر‌آی زانو",
        name_en="MRI knee",
        modality="MR",
        body_part="knee",
        duration_minutes=30,
        needs_review=True,
        preparation=[],
        screening=[],
    )
    uow.session.add_all([pregnancy, pacemaker, ct, mri, ct_brain, ct_contrast, mri_knee])
    await uow.session.flush()
    ct_brain.screening.append(ExamScreening(question_id=pregnancy.id, position=1))
    ct_contrast.screening.append(ExamScreening(question_id=pregnancy.id, position=1))
    mri_knee.screening.append(ExamScreening(question_id=pacemaker.id, position=1))
    uow.session.add_all(
        [
            DeviceExam(device_id=ct.id, exam_id=ct_brain.id),
            DeviceExam(device_id=ct.id, exam_id=ct_contrast.id),
            DeviceExam(device_id=mri.id, exam_id=mri_knee.id),
        ]
    )
    await uow.session.flush()
    return Department(ct, mri, ct_brain, ct_contrast, mri_knee, pregnancy, pacemaker, site.id)


async def add_patient(
    uow: UnitOfWork, n: int = 0, *, sex: str = "male", birth_year: int = 1360
) -> int:
    """Register patient number ``n`` (self-registered) and return the id."""
    details = PatientDetails(
        national_code=national_code(n),
        mobile=f"0912{n:07d}",
        first_name="علی",
        last_name="رضایی",
        birth_year=birth_year,
        sex=sex,
    )
    patient = await register_patient(uow, Actor.system(), details, consent=True)
    return patient.id


async def worker_proof(uow: UnitOfWork, worker_id: int, national_code: str, mobile: str) -> Proof:
    """The health worker's confirmed one-time code for a new record (``national_code`` and
    ``mobile`` as typed), as the patient beside them reads it out: sent and typed right in
    ``uow`` (the code worked out as the notifier does, under the env's link-code key)."""
    asker = Asker.health_worker(worker_id)
    code = parse_national_code(national_code)
    check = await send_code(uow, asker, "health_worker", code, mobile_if_new=mobile)
    row = await uow.session.get_one(IdentityCheck, check)
    sms = await code_sms(uow, check, row.sends)
    assert sms is not None, "a fresh check has a text message to send"
    await check_code(uow, asker, check, sms.code)
    return Proof(asker, check, "health_worker")


_codes = itertools.count(100000001)


def tracking_code() -> str:
    """A fresh e-prescription tracking code (one code backs one open referral)."""
    return str(next(_codes))


async def approved_referral(uow: UnitOfWork, patient_id: int, exam: Exam) -> int:
    """A referral for ``exam`` by e-prescription, approved by reception if it needs review."""
    from clinic.referrals import review_referral

    answers = {"pregnancy": False, "pacemaker": False}
    referral = await submit_referral(
        uow,
        Actor.patient(patient_id),
        ReferralRequest(patient_id, exam.id, "tamin", answers, tracking_code=tracking_code()),
    )
    if referral.status == "submitted":
        await review_referral(uow, RECEPTION, referral.id, approve=True)
    return referral.id
