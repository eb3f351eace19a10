"""The clinic core enforces staff roles on patients' records (review finding L5): reception
and admins see and act for any patient; reporting and broadcasting staff see none, cancel
nothing, whatever the bot's gate does."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.booking import (
    bookings_for_patient,
    cancel_booking,
    confirm_booking,
    get_booking,
    hold_slot,
)
from clinic.errors import NotAllowed, NotFound
from clinic.jalali import TEHRAN
from clinic.models import Role
from clinic.patients import record_consent, set_language
from clinic.reports import results_for_patient
from tests.factories import add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)
REPORTING = Actor.staff(31, [Role.REPORTING])
BROADCASTER = Actor.staff(32, [Role.BROADCASTER])
DESK = Actor.staff(33, [Role.RECEPTION])
ADMIN = Actor.staff(34, [Role.ADMIN])


async def _booked(env: ClinicEnv) -> tuple[int, int]:
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 1)
        referral = await approved_referral(uow, pid, dept.ct_brain)
        me = Actor.patient(pid)
        start = datetime.combine(MONDAY, time(9), tzinfo=TEHRAN)
        held = await hold_slot(uow, me, referral, dept.ct.id, start)
        booking = await confirm_booking(uow, me, held.id)
        await uow.commit()
    return pid, booking.id


@pytest.mark.parametrize("actor", [REPORTING, BROADCASTER], ids=["reporting", "broadcaster"])
async def test_staff_without_reception_see_and_cancel_nothing(
    env: ClinicEnv, actor: Actor
) -> None:
    pid, booking_id = await _booked(env)
    async with env.uow() as uow:
        with pytest.raises(NotAllowed):
            await bookings_for_patient(uow, actor, pid)
        with pytest.raises(NotAllowed):
            await results_for_patient(uow, actor, pid)
        with pytest.raises(NotAllowed):
            await set_language(uow, actor, pid, "en")
        with pytest.raises(NotAllowed):
            await record_consent(uow, actor, pid, "staff")
        with pytest.raises(NotFound):  # someone else's booking is simply not found
            await get_booking(uow, actor, booking_id)
        with pytest.raises(NotFound):
            await cancel_booking(uow, actor, booking_id, reason="staff")
    async with env.uow() as uow:
        booking = await get_booking(uow, Actor.system(), booking_id)
    assert booking.status == "confirmed"


@pytest.mark.parametrize("actor", [DESK, ADMIN], ids=["reception", "admin"])
async def test_reception_and_admins_act_for_any_patient(env: ClinicEnv, actor: Actor) -> None:
    pid, booking_id = await _booked(env)
    async with env.uow() as uow:
        assert [b.id for b in await bookings_for_patient(uow, actor, pid)] == [booking_id]
        cancelled = await cancel_booking(uow, actor, booking_id, reason="staff")
        await uow.commit()
    assert cancelled.status == "cancelled"
