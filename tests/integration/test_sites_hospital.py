"""Two hospitals' RISes give the same accession number to different exams: each event reaches
its own site's patient only, and staff see and settle only their own site's events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.errors import NotFound
from clinic.hospital import OrderOutcome, PatientHint, hospital_report_event, link_order
from clinic.hospital_inbox import dismiss_unmatched, get_unmatched, waiting_counts
from clinic.models import Report, UnmatchedEvent
from clinic.outbox import pending
from clinic.reports import (
    Outcome,
    ReportEvent,
    UnknownSite,
    get_report,
    report_event,
    resolve_unmatched,
    unmatched_events,
)
from tests.factories import RECEPTION, add_patient, national_code
from tests.two_sites import MONDAY, admit, admitted_at_each, at, booked, build_two_sites

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv


async def _told(uow: UnitOfWork, kind: str) -> list[int]:
    """The bookings whose patient has a ``kind`` notice waiting to be sent."""
    return [n.booking_id for n in await pending(uow, kind=kind) if n.booking_id is not None]


async def test_a_report_from_site_b_reaches_site_b_patient_only(env: ClinicEnv) -> None:
    two, at_a, at_b = await admitted_at_each(env, "RAD-1001")
    async with env.uow() as uow:
        outcome = await report_event(
            uow,
            source="hl7",
            accession_number="RAD-1001",
            kind=ReportEvent.FINAL,
            occurred_at=at(12),
            site=two.site_b,
        )
        await uow.commit()
        told = await _told(uow, "report_ready")
        report_a = await get_report(uow, "RAD-1001", two.site_a)
        report_b = await get_report(uow, "RAD-1001", two.site_b)
    assert outcome is Outcome.APPLIED
    assert told == [at_b.id]
    assert (report_a.booking_id, report_a.final_at) == (at_a.id, None)
    assert report_b.booking_id == at_b.id and report_b.final_at is not None


async def test_an_event_that_names_no_site_among_several_changes_nothing(env: ClinicEnv) -> None:
    await admitted_at_each(env, "RAD-1001")
    hint = PatientHint.of(national_code(1), "CT", MONDAY)
    async with env.uow() as uow:
        with pytest.raises(UnknownSite):
            await hospital_report_event(
                uow,
                source="his",
                accession_number="RAD-1001",
                kind=ReportEvent.FINAL,
                occurred_at=at(12),
                hint=hint,
            )
        with pytest.raises(UnknownSite):
            await link_order(
                uow, source="hl7", accession_number="ORD-9", hint=hint, occurred_at=at(7)
            )
        with pytest.raises(UnknownSite):
            await get_report(uow, "RAD-1001")
    async with env.uow() as uow:
        assert await _told(uow, "report_ready") == []
        assert list(await uow.session.scalars(select(UnmatchedEvent))) == []
        finals = await uow.session.scalars(select(Report.final_at))
        assert list(finals) == [None, None]


async def test_an_order_links_the_booking_at_its_own_site_only(env: ClinicEnv) -> None:
    # The same patient has a CT at each hospital that morning: without the site the order
    # would fit two bookings and wait for staff; with it, it fits one.
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        patient = await add_patient(uow, 0)
        at_a = await booked(uow, patient, two.dept.ct_brain, two.dept.ct, at(9))
        at_b = await booked(uow, patient, two.dept.ct_contrast, two.ct_b, at(10))
        await uow.commit()
    hint = PatientHint.of(national_code(0), "CT", MONDAY)
    async with env.uow() as uow:
        from_b = await link_order(
            uow,
            source="hl7",
            accession_number="ORD-1",
            hint=hint,
            occurred_at=at(7),
            site=two.site_b,
        )
        # Site A's RIS happens to give its own order the same number.
        from_a = await link_order(
            uow,
            source="hl7",
            accession_number="ORD-1",
            hint=hint,
            occurred_at=at(7),
            site=two.site_a,
        )
        await uow.commit()
        numbered = {
            (r.site_id, r.accession_number): r.booking_id
            for r in await uow.session.scalars(select(Report))
        }
    assert (from_b, from_a) == (OrderOutcome.LINKED, OrderOutcome.LINKED)
    assert numbered == {(two.site_b, "ORD-1"): at_b.id, (two.site_a, "ORD-1"): at_a.id}
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await admit(uow, at_a, None)
        outcome = await hospital_report_event(
            uow,
            source="pacs",
            accession_number="ORD-1",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=at(9, 40),
            site=two.site_a,
        )
        await uow.commit()
        told = await _told(uow, "images_ready")
    assert outcome is Outcome.APPLIED
    assert told == [at_a.id]


async def test_a_hint_finds_a_booking_at_the_events_site_only(env: ClinicEnv) -> None:
    two, _at_a, at_b = await admitted_at_each(env, None)
    # Site A's PACS has a study of patient 1, who is admitted at site B only: not guessed.
    hint = PatientHint.of(national_code(1), "CT", MONDAY)
    async with env.uow() as uow:
        at_a_site, at_b_site = [
            await hospital_report_event(
                uow,
                source="pacs",
                accession_number="ST-1",
                kind=ReportEvent.IMAGES_READY,
                occurred_at=at(9, 40),
                hint=hint,
                site=site,
            )
            for site in (two.site_a, two.site_b)
        ]
        await uow.commit()
        told = await _told(uow, "images_ready")
        kept = [e.site_id for e in await uow.session.scalars(select(UnmatchedEvent))]
    assert (at_a_site, at_b_site) == (Outcome.UNMATCHED, Outcome.APPLIED)
    assert told == [at_b.id]
    assert kept == [two.site_a]


async def test_staff_see_and_settle_only_their_own_sites_events(env: ClinicEnv) -> None:
    two, at_a, at_b = await admitted_at_each(env, None)  # admitted before the RIS numbered them
    async with env.uow() as uow:
        for site in (two.site_a, two.site_b):
            outcome = await report_event(
                uow,
                source="hl7",
                accession_number="LATE-1",
                kind=ReportEvent.FINAL,
                occurred_at=at(12),
                site=site,
            )
            assert outcome is Outcome.UNMATCHED
        await uow.commit()
    staff_a = two.reception_at(two.site_a)
    async with env.uow() as uow:
        mine = await unmatched_events(uow, staff_a)
        everyone = await unmatched_events(uow, RECEPTION)
        counts = await waiting_counts(uow, staff_a)
    assert [e.site_id for e in mine] == [two.site_a]
    assert sorted(e.site_id for e in everyone) == sorted([two.site_a, two.site_b])
    assert counts == (1, 0)
    (b_event,) = [e for e in everyone if e.site_id == two.site_b]
    (a_event,) = mine
    async with env.uow() as uow:
        with pytest.raises(NotFound):
            await get_unmatched(uow, staff_a, b_event.id)
        with pytest.raises(NotFound):
            await dismiss_unmatched(uow, staff_a, b_event.id)
        with pytest.raises(NotFound):
            await resolve_unmatched(uow, staff_a, b_event.id, at_b.id)
        with pytest.raises(NotFound):  # site A's booking cannot take site B's report
            await resolve_unmatched(uow, RECEPTION, b_event.id, at_a.id)
        with pytest.raises(NotFound):  # nor site A's staff settle one at site B's booking
            await resolve_unmatched(uow, staff_a, a_event.id, at_b.id)
        assert await _told(uow, "report_ready") == []
    async with env.uow() as uow:
        await resolve_unmatched(uow, staff_a, a_event.id, at_a.id)
        await uow.commit()
        told = await _told(uow, "report_ready")
        still = await unmatched_events(uow, RECEPTION)
    assert told == [at_a.id]
    assert [e.id for e in still] == [b_event.id]


async def test_a_number_typed_at_one_site_replays_only_that_sites_events(
    env: ClinicEnv,
) -> None:
    two, at_a, _at_b = await admitted_at_each(env, None)
    async with env.uow() as uow:
        for site in (two.site_a, two.site_b):
            await report_event(
                uow,
                source="his",
                accession_number="EARLY-7",
                kind=ReportEvent.FINAL,
                occurred_at=at(11),
                site=site,
            )
        await uow.commit()
    async with env.uow() as uow:
        # Reception at site A types the number after the report came: only A's is replayed.
        await admit(uow, at_a, "EARLY-7")
        await uow.commit()
        told = await _told(uow, "report_ready")
        open_sites = [
            e.site_id
            for e in await uow.session.scalars(
                select(UnmatchedEvent).where(UnmatchedEvent.resolved_at.is_(None))
            )
        ]
    assert told == [at_a.id]
    assert open_sites == [two.site_b]
