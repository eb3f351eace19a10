"""Staff roles read at the moment of action, consent, language, and lifting closures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.availability import bookable_times
from clinic.closures import ClosureRequest, cancel_closure, close
from clinic.errors import Conflict, InvalidInput, NotAllowed
from clinic.jalali import TEHRAN
from clinic.models import Patient, Platform, Role, WaitlistEntry
from clinic.patients import record_consent, set_language
from clinic.staff import add_staff, set_roles, staff_actor
from clinic.waitlist import join_waitlist, lapse_past_entries, leave_waitlist
from tests.factories import ADMIN, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


async def test_a_removed_role_stops_working_at_once(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await build_department(uow)
        member = await add_staff(
            uow, ADMIN, full_name="سارا نوری", roles=["reception"], telegram_user_id=777
        )
        await uow.commit()
        actor = await staff_actor(uow, Platform.TELEGRAM, 777)
        assert actor is not None
        assert actor.roles == {Role.RECEPTION}
        assert await staff_actor(uow, Platform.BALE, 777) is None
        await set_roles(uow, ADMIN, member.id, [])
        await uow.commit()
        assert await staff_actor(uow, Platform.TELEGRAM, 777) is None
        with pytest.raises(NotAllowed):
            await add_staff(
                uow, Actor.staff(member.id, [Role.RECEPTION]), full_name="x", roles=["admin"]
            )
        with pytest.raises(InvalidInput):
            await add_staff(uow, ADMIN, full_name="x", roles=["janitor"])


async def test_consent_and_language_are_saved_for_the_patient(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        patient = await add_patient(uow)
        env.clock.advance(days=1)
        await record_consent(uow, Actor.patient(patient), patient, "telegram")
        await set_language(uow, Actor.patient(patient), patient, "en")
        with pytest.raises(InvalidInput):
            await set_language(uow, Actor.patient(patient), patient, "de")
        with pytest.raises(NotAllowed):
            await set_language(uow, Actor.patient(patient + 1), patient, "fa")
        await uow.commit()
        row = await uow.session.get(Patient, patient)
    assert row is not None
    assert (row.language, row.consent_via, row.consent_at) == ("en", "telegram", env.clock.now())


async def test_lifting_a_closure_reopens_its_hours(env: ClinicEnv) -> None:
    start = datetime.combine(MONDAY, time(8), tzinfo=TEHRAN)
    async with env.uow() as uow:
        dept = await build_department(uow)
        result = await close(
            uow, ADMIN, ClosureRequest(dept.ct.id, start, start + timedelta(hours=2), "سرویس")
        )
        await uow.commit()
        assert start not in [
            t.starts_at for t in await bookable_times(uow, dept.ct_brain.id, MONDAY)
        ]
        await cancel_closure(uow, ADMIN, result.closure_id)
        await uow.commit()
        assert start in [t.starts_at for t in await bookable_times(uow, dept.ct_brain.id, MONDAY)]
        with pytest.raises(Conflict):
            await cancel_closure(uow, ADMIN, result.closure_id)
        with pytest.raises(InvalidInput):
            await close(uow, ADMIN, ClosureRequest(None, start, start, "x"))
        with pytest.raises(NotAllowed):
            await close(
                uow,
                Actor.staff(2, [Role.RECEPTION]),
                ClosureRequest(None, start, start + timedelta(hours=1), "x"),
            )


async def test_waitlist_entries_can_be_left_and_lapse_after_their_date(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        a, b = await add_patient(uow, 0), await add_patient(uow, 1)
        ra = await approved_referral(uow, a, dept.ct_brain)
        rb = await approved_referral(uow, b, dept.ct_brain)
        with pytest.raises(InvalidInput):
            await join_waitlist(uow, Actor.patient(a), ra, date(2026, 11, 29))  # today
        first = await join_waitlist(uow, Actor.patient(a), ra, MONDAY)
        again = await join_waitlist(uow, Actor.patient(a), ra, MONDAY + timedelta(days=2))
        other = await join_waitlist(uow, Actor.patient(b), rb, MONDAY)
        await leave_waitlist(uow, Actor.patient(b), other.id)
        await uow.commit()
    assert again.id == first.id
    env.clock.advance(days=4)
    async with env.uow() as uow:
        assert await lapse_past_entries(uow) == 1
        await uow.commit()
        entry = await uow.session.get(WaitlistEntry, first.id)
        left = await uow.session.get(WaitlistEntry, other.id)
    assert entry is not None
    assert left is not None
    assert (entry.status, left.status) == ("lapsed", "cancelled")
