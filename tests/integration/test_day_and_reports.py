"""Admission, no-shows, the day list, and report events joined by accession number."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in, complete, day_list, mark_no_show
from clinic.errors import Conflict, InvalidInput, NotAllowed
from clinic.jalali import TEHRAN
from clinic.models import Booking, Report
from clinic.outbox import pending
from clinic.reports import (
    Outcome,
    ReportEvent,
    report_event,
    resolve_unmatched,
    results_for_patient,
    unmatched_events,
)
from tests.factories import (
    RECEPTION,
    Department,
    add_patient,
    approved_referral,
    build_department,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


async def _booked(
    uow: UnitOfWork, dept: Department, n: int, start: datetime
) -> tuple[int, Booking]:
    patient = await add_patient(uow, n)
    me = Actor.patient(patient)
    referral = await approved_referral(uow, patient, dept.ct_brain)
    booking = await confirm_booking(
        uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
    )
    return patient, booking


async def test_reception_runs_the_day_list(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        _, late = await _booked(uow, dept, 0, at(10, 30))
        _, early = await _booked(uow, dept, 1, at(9, 0))
        await uow.commit()
    env.clock.set(at(9, 20))
    async with env.uow() as uow:
        with pytest.raises(NotAllowed):
            await day_list(uow, Actor.patient(1), early.device_id, MONDAY)
        await check_in(uow, RECEPTION, early.id, accession_number="ACC-۲۰۲۶-۰۰۱")
        await check_in(uow, RECEPTION, early.id)  # a double tap changes nothing
        with pytest.raises(Conflict, match="not come yet"):
            await mark_no_show(uow, RECEPTION, late.id)
        await uow.commit()
    env.clock.set(at(11, 0))
    async with env.uow() as uow:
        await mark_no_show(uow, RECEPTION, late.id)
        await complete(uow, RECEPTION, early.id)
        await uow.commit()
        rows = await day_list(uow, RECEPTION, early.device_id, MONDAY)
    assert [(r.booking.id, r.booking.status) for r in rows] == [
        (early.id, "completed"),
        (late.id, "no_show"),
    ]
    assert rows[0].patient.first_name == "علی"


async def test_report_events_notify_once_each(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient, booking = await _booked(uow, dept, 0, at(9))
        await uow.commit()
    env.clock.set(at(9, 10))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number="RAD12345")
        outcomes = []
        for kind in (ReportEvent.IMAGES_READY, ReportEvent.IMAGES_READY, ReportEvent.FINAL):
            outcomes.append(
                await report_event(
                    uow,
                    source="pacs",
                    accession_number="RAD12345",
                    kind=kind,
                    occurred_at=at(9, 40),
                )
            )
        outcomes.append(
            await report_event(
                uow,
                source="his",
                accession_number="RAD12345",
                kind=ReportEvent.FINAL,
                occurred_at=at(12),
            )
        )
        for _ in range(2):
            outcomes.append(
                await report_event(
                    uow,
                    source="his",
                    accession_number="RAD12345",
                    kind=ReportEvent.CORRECTED,
                    occurred_at=at(13),
                )
            )
        await uow.commit()
        notices = await pending(uow, recipient_id=patient, booking_id=booking.id)
        results = await results_for_patient(uow, Actor.patient(patient), patient)
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
    ]
    kinds = [n.kind for n in notices]
    assert kinds.count("images_ready") == 1
    assert kinds.count("report_ready") == 1
    assert kinds.count("report_corrected") == 1
    ready = next(n for n in notices if n.kind == "report_ready")
    report = results[0][1]
    assert report is not None
    assert ready.params["pickup_code"] == report.pickup_code
    assert report.status == "corrected"
    assert results[0][0].status == "completed"


async def test_unknown_accession_numbers_wait_for_staff(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient, booking = await _booked(uow, dept, 0, at(9))
        await uow.commit()
        outcome = await report_event(
            uow,
            source="his",
            accession_number="X-99",
            kind=ReportEvent.FINAL,
            occurred_at=at(12),
            payload={"status": "F"},
        )
        again = await report_event(
            uow, source="his", accession_number="X-99", kind=ReportEvent.FINAL, occurred_at=at(12)
        )
        await uow.commit()
        waiting = await unmatched_events(uow, RECEPTION)
        assert (outcome, again, len(waiting)) == (Outcome.UNMATCHED, Outcome.UNMATCHED, 1)
        assert await pending(uow, kind="report_ready") == []
        await check_in(uow, RECEPTION, booking.id)
        await resolve_unmatched(uow, RECEPTION, waiting[0].id, booking.id)
        await uow.commit()
        assert await unmatched_events(uow, RECEPTION) == []
        ready = await pending(uow, kind="report_ready")
    assert [n.recipient_id for n in ready] == [patient]


async def test_an_accession_number_joins_one_booking_only(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        _, first = await _booked(uow, dept, 0, at(9))
        _, second = await _booked(uow, dept, 1, at(9, 15))
        await uow.commit()
        await check_in(uow, RECEPTION, first.id, accession_number="A1")
        with pytest.raises(Conflict):
            await check_in(uow, RECEPTION, second.id, accession_number="A1")
        with pytest.raises(InvalidInput):
            await check_in(uow, RECEPTION, second.id, accession_number="<script>")


async def test_events_before_admission_are_replayed_when_the_number_arrives(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient, booking = await _booked(uow, dept, 0, at(9))
        await report_event(
            uow,
            source="pacs",
            accession_number="EARLY1",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=at(9, 30),
        )
        await uow.commit()
        await check_in(uow, RECEPTION, booking.id, accession_number="EARLY1")
        await uow.commit()
        report = await uow.session.get(Report, 1)
        notices = await pending(uow, kind="images_ready")
    assert report is not None
    assert report.status == "images_ready"
    assert [n.recipient_id for n in notices] == [patient]
