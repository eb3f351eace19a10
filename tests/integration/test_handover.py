"""The results desk: a pickup code looked up, the report handed over once, look-ups audited."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.codes import _luhn_digit
from clinic.daylist import check_in
from clinic.errors import Conflict, InvalidInput, NotAllowed
from clinic.handover import NoSuchPickupCode, PickupPaused, hand_over, look_up
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry, Report, Role
from clinic.reports import ReportEvent, report_event
from clinic.text import to_persian_digits
from tests.factories import RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


async def admitted(env: ClinicEnv, accession: str) -> Report:
    """A patient booked, admitted with ``accession``; their report (pending)."""
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 1)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        me = Actor.patient(patient)
        start = datetime.combine(MONDAY, time(9), tzinfo=TEHRAN)
        booking = await confirm_booking(
            uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
        )
        await check_in(uow, RECEPTION, booking.id, accession_number=accession)
        await uow.commit()
        report = await uow.session.scalar(select(Report))
        assert report is not None
        return report


async def final(env: ClinicEnv, accession: str) -> None:
    async with env.uow() as uow:
        await report_event(
            uow, source="his", accession_number=accession, kind=ReportEvent.FINAL,
            occurred_at=env.clock.now(),
        )  # fmt: skip
        await uow.commit()


async def lookups(env: ClinicEnv) -> list[tuple[int | None, dict[str, object]]]:
    async with env.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEntry.entity_id, AuditEntry.details)
            .where(AuditEntry.action == "report.pickup_lookup")
            .order_by(AuditEntry.id)
        )
        return [(entity, dict(details or {})) for entity, details in rows.tuples()]


async def test_the_desk_finds_whose_report_and_hands_it_over_once(env: ClinicEnv) -> None:
    report = await admitted(env, "ACC-1001")
    async with env.uow() as uow:
        card = await look_up(uow, RECEPTION, to_persian_digits(report.pickup_code))
        await uow.commit()
    assert (card.report_id, card.accession_number, card.ready) == (report.id, "ACC-1001", False)
    assert card.patient_name == "علی رضایی"
    assert "***" in card.national_code and len(card.national_code) == 10
    async with env.uow() as uow:
        with pytest.raises(Conflict, match="not final yet"):
            await hand_over(uow, RECEPTION, report.id, to="patient")
    await final(env, "ACC-1001")
    async with env.uow() as uow:
        card = await look_up(uow, RECEPTION, report.pickup_code)
        assert card.ready
        with pytest.raises(InvalidInput):
            await hand_over(uow, RECEPTION, report.id, to="proxy")  # who collects it, then?
        await hand_over(uow, RECEPTION, report.id, to="proxy", note="برادر بیمار، کارت ملی")
        await uow.commit()
    async with env.uow() as uow:
        card = await look_up(uow, RECEPTION, report.pickup_code)
        with pytest.raises(Conflict, match="already collected"):
            await hand_over(uow, RECEPTION, report.id, to="patient")
        await uow.commit()
    assert (card.ready, card.collected_to, card.collected_note) == (
        False, "proxy", "برادر بیمار، کارت ملی"
    )  # fmt: skip
    assert card.collected_at == env.clock.now()
    assert [entity for entity, _ in await lookups(env)] == [report.id] * 3


async def test_a_wrong_code_tells_nothing_and_is_audited(env: ClinicEnv) -> None:
    report = await admitted(env, "ACC-1002")
    wrong = "123455" if report.pickup_code != "123455" else "234567"
    for typed in (wrong, "12", "abc", report.pickup_code[:-1] + "x"):
        async with env.uow() as uow:
            with pytest.raises(NoSuchPickupCode) as refused:
                await look_up(uow, RECEPTION, typed)
            await uow.commit()
        assert refused.value.render() == (
            "No report has this pickup code. Please check it with the patient."
        )
    assert await lookups(env) == [(None, {"found": False})] * 4
    async with env.uow() as uow:
        with pytest.raises(NotAllowed):
            await look_up(uow, Actor.patient(1), report.pickup_code)


def _valid_codes(avoid: str, count: int) -> list[str]:
    """Codes with a right check digit that are not ``avoid``: what walking the space types."""
    found: list[str] = []
    n = 10000
    while len(found) < count:
        body = str(n)
        code = body + _luhn_digit(body)
        if code != avoid:
            found.append(code)
        n += 1
    return found


async def test_codes_that_match_nothing_pause_the_staff_member(env: ClinicEnv) -> None:
    report = await admitted(env, "ACC-1003")
    other = Actor.staff((RECEPTION.id or 0) + 1, [Role.RECEPTION])  # a colleague at the same desk
    guesses = _valid_codes(report.pickup_code, 6)
    for typed in ["12", report.pickup_code[:-1] + "x", *guesses[:4]]:  # mistyped: not counted
        async with env.uow() as uow:
            with pytest.raises(NoSuchPickupCode):
                await look_up(uow, RECEPTION, typed)
            await uow.commit()
    async with env.uow() as uow:
        with pytest.raises(PickupPaused) as paused:  # the fifth real guess
            await look_up(uow, RECEPTION, guesses[4])
        await uow.commit()
    async with env.uow() as uow:
        with pytest.raises(PickupPaused):  # nothing is looked up now, the right code neither
            await look_up(uow, RECEPTION, report.pickup_code)
        await uow.commit()
        card = await look_up(uow, other, report.pickup_code)  # the colleague is not paused
        await uow.commit()
    assert card.report_id == report.id
    assert paused.value.until == env.clock.now() + env.policy.link.lockout
    audited = await lookups(env)
    assert audited[-3:] == [(None, {"found": False, "paused": True})] * 2 + [
        (report.id, {"found": True})
    ]
    env.clock.advance(hours=1, seconds=1)
    async with env.uow() as uow:
        assert (await look_up(uow, RECEPTION, report.pickup_code)).report_id == report.id


async def test_a_found_code_is_not_held_against_the_desk(env: ClinicEnv) -> None:
    report = await admitted(env, "ACC-1004")
    for typed in _valid_codes(report.pickup_code, 4):  # four slips: one short of the pause
        async with env.uow() as uow:
            with contextlib.suppress(NoSuchPickupCode):
                await look_up(uow, RECEPTION, typed)
            await uow.commit()
    for _ in range(3):  # the codes that are found count for nothing
        async with env.uow() as uow:
            assert (await look_up(uow, RECEPTION, report.pickup_code)).report_id == report.id
            await uow.commit()
