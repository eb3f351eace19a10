"""No-shows at the end of the day, counted per patient, and the block on booking in chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in, mark_no_show
from clinic.errors import NoShowLimit, NotAllowed
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry, Booking, BookingStatus, Exam, Patient
from clinic.no_shows import close_past_days, lift_block
from tests.factories import (
    RECEPTION,
    add_patient,
    approved_referral,
    build_department,
)

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)
SYSTEM = Actor.system()


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def book(env: ClinicEnv, patient: int, starts_at: datetime) -> int:
    async with env.uow() as uow:
        exam = (await uow.session.scalars(select(Exam).where(Exam.code == "CT-BRAIN"))).one()
        referral = await approved_referral(uow, patient, exam)
        me = Actor.patient(patient)
        held = await hold_slot(uow, me, referral, 1, starts_at)  # the CT
        await confirm_booking(uow, me, held.id)
        await uow.commit()
        return held.id


@pytest.fixture
async def patients(env: ClinicEnv) -> list[int]:
    async with env.uow() as uow:
        await build_department(uow, ct_places=3)
        ids = [await add_patient(uow, n) for n in range(3)]
        await uow.commit()
    return ids


async def test_unadmitted_bookings_become_no_shows_when_their_day_ends(
    env: ClinicEnv, patients: list[int]
) -> None:
    missed = await book(env, patients[0], at(MONDAY, 9))
    came = await book(env, patients[1], at(MONDAY, 9))
    tomorrow = await book(env, patients[2], at(TUESDAY, 9))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, came)
        await uow.commit()
    env.clock.set(at(MONDAY, 23, 59))  # the day is not over yet
    async with env.uow() as uow:
        assert await close_past_days(uow, SYSTEM) == 0
    env.clock.set(at(TUESDAY, 0, 5))
    async with env.uow() as uow:
        assert await close_past_days(uow, SYSTEM) == 1
        await uow.commit()
    async with env.uow() as uow:
        assert await close_past_days(uow, SYSTEM) == 0  # a second run finds nothing
        status = {b.id: b.status for b in await uow.session.scalars(select(Booking))}
        counts = {p.id: p.no_shows for p in await uow.session.scalars(select(Patient))}
        audit = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_id == missed)
            )
        )
    assert status == {
        missed: BookingStatus.NO_SHOW,
        came: BookingStatus.CHECKED_IN,
        tomorrow: BookingStatus.CONFIRMED,
    }
    assert counts == {patients[0]: 1, patients[1]: 0, patients[2]: 0}
    assert "booking.no_show" in audit


async def test_more_missed_than_the_limit_sends_the_patient_to_reception(
    env: ClinicEnv, patients: list[int]
) -> None:
    me = patients[0]
    # Two missed by the day's end, one marked by reception: three, more than the limit of 2.
    await book(env, me, at(MONDAY, 9))
    async with env.uow() as uow:
        await uow.session.execute(update(Patient).where(Patient.id == me).values(no_shows=2))
        await uow.commit()
    env.clock.set(at(MONDAY, 10))
    async with env.uow() as uow:
        booking = await uow.session.scalar(select(Booking.id).where(Booking.patient_id == me))
        assert booking is not None
        await mark_no_show(uow, RECEPTION, booking)
        await uow.commit()
    async with env.uow() as uow:  # the missed booking's referral is still open for a new time
        referral = await uow.session.get_one(Booking, booking)
    async with env.uow() as uow:
        with pytest.raises(NoShowLimit) as refused:
            await hold_slot(uow, Actor.patient(me), referral.referral_id, 1, at(TUESDAY, 9))
    text = refused.value.render()
    assert "missed 3 appointments" in text and "058-3100-0000" in text
    async with env.uow() as uow:  # reception may still book for them, at the desk
        held = await hold_slot(uow, RECEPTION, referral.referral_id, 1, at(TUESDAY, 9))
        assert held.channel == "desk"
    async with env.uow() as uow:
        with pytest.raises(NotAllowed):
            await lift_block(uow, Actor.patient(me), me)
        await lift_block(uow, RECEPTION, me)
        await uow.commit()
    async with env.uow() as uow:
        held = await hold_slot(uow, Actor.patient(me), referral.referral_id, 1, at(TUESDAY, 9, 15))
        await uow.commit()
        patient = await uow.session.get_one(Patient, me)
    assert (patient.no_shows, patient.no_shows_forgiven) == (3, 3)
    assert held.status == BookingStatus.HELD


async def test_no_limit_when_the_department_sets_none(env: ClinicEnv, patients: list[int]) -> None:
    me = patients[0]
    async with env.uow() as uow:
        await uow.session.execute(update(Patient).where(Patient.id == me).values(no_shows=9))
        await uow.commit()
    lenient = replace(env.policy, no_show_limit=0)
    async with env.uow(lenient) as uow:
        exam = (await uow.session.scalars(select(Exam).where(Exam.code == "CT-BRAIN"))).one()
        referral = await approved_referral(uow, me, exam)
        held = await hold_slot(uow, Actor.patient(me), referral, 1, at(TUESDAY, 9))
    assert held.status == BookingStatus.HELD
