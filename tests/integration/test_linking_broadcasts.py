"""Health workers see only their patients; broadcasts counted, queued once."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.broadcasts import Audience, draft_broadcast, progress, send_broadcast
from clinic.errors import Conflict, InvalidInput, NotAllowed
from clinic.jalali import TEHRAN
from clinic.models import Role
from clinic.outbox import pending
from clinic.patients import PatientDetails, patients_of_worker, register_patient
from clinic.staff import add_health_house, add_health_worker
from tests.factories import ADMIN, add_patient, approved_referral, build_department, worker_proof

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

BROADCASTER = Actor.staff(1, [Role.BROADCASTER])


async def test_a_worker_sees_only_their_patients(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await build_department(uow)
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        a = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="الف", mobile="09150000001"
        )
        b = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="ب", mobile="09150000002"
        )
        for n, worker in ((0, a), (1, a), (2, b)):
            details = PatientDetails(
                f"{['0499370899', '0790419904', '0084575948'][n]}",
                "09121112233",
                "نام",
                ["احمدی", "بهرامی", "کریمی"][n],
                1350,
                "female",
            )
            proof = await worker_proof(uow, worker.id, details.national_code, details.mobile)
            await register_patient(
                uow, Actor.health_worker(worker.id), details, consent=True, proof=proof
            )
        await uow.commit()
        mine = await patients_of_worker(uow, Actor.health_worker(a.id))
        with pytest.raises(NotAllowed):
            await patients_of_worker(uow, Actor.patient(1))
    assert [p.last_name for p in mine] == ["احمدی", "بهرامی"]


async def test_a_broadcast_reaches_exactly_its_audience_once(env: ClinicEnv) -> None:
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    async with env.uow() as uow:
        dept = await build_department(uow)
        ids = []
        for n, (day, device, exam) in enumerate(
            [
                (monday, dept.ct, dept.ct_brain),
                (tuesday, dept.ct, dept.ct_brain),
                (monday, dept.mri, dept.mri_knee),
            ]
        ):
            patient = await add_patient(uow, n)
            referral = await approved_referral(uow, patient, exam)
            me = Actor.patient(patient)
            start = datetime.combine(day, time(9), tzinfo=TEHRAN)
            await confirm_booking(
                uow, me, (await hold_slot(uow, me, referral, device.id, start)).id
            )
            ids.append(patient)
        await uow.commit()
        with pytest.raises(NotAllowed):
            await draft_broadcast(uow, Actor.staff(2, [Role.RECEPTION]), "x", Audience("future"))
        with pytest.raises(InvalidInput, match="too long"):
            await draft_broadcast(uow, BROADCASTER, "ا" * 1001, Audience("future"))
        audience = Audience("device", dept.ct.id, monday, monday)
        draft, count = await draft_broadcast(
            uow, BROADCASTER, "دستگاه سی‌تی فردا از ساعت ۱۰ کار می‌کند.", audience
        )
        await uow.commit()
        assert count == 1
        await send_broadcast(uow, BROADCASTER, draft.id)
        await uow.commit()
        with pytest.raises(Conflict):  # a double tap sends nothing twice
            await send_broadcast(uow, BROADCASTER, draft.id)
        rows = await pending(uow, kind="broadcast")
        counts = await progress(uow, draft.id)
        everyone, total = await draft_broadcast(uow, BROADCASTER, "اطلاعیه", Audience("future"))
    assert [r.recipient_id for r in rows] == [ids[0]]
    assert counts == {"pending": 1}
    assert total == 3
    assert everyone.status == "draft"
