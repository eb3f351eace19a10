"""Concurrent holds for the last places: exactly as many succeed as there are places."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import hold_slot
from clinic.errors import SlotFull, SlotUnavailable
from clinic.jalali import TEHRAN
from clinic.models import Booking, SlotUsage
from tests.factories import add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

SLOT = datetime(2026, 11, 30, 9, 0, tzinfo=TEHRAN)
CONTENDERS = 12


async def _contend(env: ClinicEnv, places: int) -> tuple[int, int, int, int]:
    async with env.uow() as uow:
        dept = await build_department(uow, ct_places=places)
        contenders = []
        for n in range(CONTENDERS):
            patient = await add_patient(uow, n)
            contenders.append((patient, await approved_referral(uow, patient, dept.ct_brain)))
        await uow.commit()
        device = dept.ct.id

    async def attempt(patient: int, referral: int) -> bool:
        # One unit of work (and so one session and connection) per task, never shared.
        async with env.uow() as uow:
            try:
                await hold_slot(uow, Actor.patient(patient), referral, device, SLOT)
            except (SlotFull, SlotUnavailable):
                return False
            await uow.commit()
            return True

    results = await asyncio.gather(*(attempt(p, r) for p, r in contenders))
    async with env.uow() as uow:
        held = await uow.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == "held")
        )
        used = await uow.session.scalar(
            select(SlotUsage.used).where(
                SlotUsage.device_id == device, SlotUsage.starts_at == SLOT
            )
        )
    return sum(results), len(results) - sum(results), int(held or 0), int(used or 0)


@pytest.mark.parametrize("places", [1, 3])
async def test_concurrent_holds_never_overbook(env: ClinicEnv, places: int) -> None:
    won, lost, held, used = await _contend(env, places)
    assert won == places
    assert lost == CONTENDERS - places
    assert held == places
    assert used == places


async def test_the_slot_checks_itself_in_the_database(env: ClinicEnv) -> None:
    # Even a buggy caller that bypasses the guarded update cannot overbook: the CHECK fires.
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    async with env.uow() as uow:
        dept = await build_department(uow)
        uow.session.add(SlotUsage(device_id=dept.ct.id, starts_at=SLOT, used=1, capacity=1))
        await uow.commit()
        with pytest.raises(IntegrityError):
            await uow.session.execute(update(SlotUsage).values(used=SlotUsage.used + 1))
