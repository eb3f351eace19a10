"""Several imaging departments (sites) in one deployment: patients offered the centre with the
earliest day and booked only where they chose, staff held to their own site, closures,
broadcasts and the e-booking share kept to a site, and staff given their sites.

Site A is ``build_department``'s Bojnurd department (CT-1, MRI-1); site B is Shirvan, whose CT
does the same CT exams (``tests/two_sites.py``). The clock stands on Sunday 08:00.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic.accounts import chat_identity
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import cancel_booking, confirm_booking, get_booking, hold_slot
from clinic.booking_share import booking_share
from clinic.broadcasts import Audience, draft_broadcast, recipients
from clinic.centres import centres_for, sites_doing
from clinic.closures import ClosureRequest, cancel_closure, close, closures_ahead
from clinic.daylist import check_in, day_list, mark_no_show
from clinic.errors import InvalidInput, NotAllowed, NotFound, SlotUnavailable
from clinic.handover import NoSuchPickupCode, hand_over, look_up
from clinic.jalali import TEHRAN
from clinic.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Closure,
    Platform,
    Referral,
    ReferralStatus,
    Report,
    Role,
)
from clinic.outbox import pending
from clinic.referrals import (
    ReferralRequest,
    get_referral,
    pending_review,
    review_referral,
    submit_referral,
)
from clinic.reports import ReportEvent, report_event, unmatched_events
from clinic.rosters import staff_rows
from clinic.staff import add_staff, set_staff_sites, staff_actor
from clinic.waitlist import join_waitlist
from clinic.walk_ins import queue
from tests.factories import ADMIN, RECEPTION, add_patient, tracking_code
from tests.two_sites import TwoSites, build_two_sites

if TYPE_CHECKING:
    from clinic.models import Device, Exam
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

SUNDAY = date(2026, 11, 29)  # today: the clock stands at 08:00
MONDAY, TUESDAY, WEDNESDAY, THURSDAY = (SUNDAY + timedelta(days=n) for n in range(1, 5))
NEXT_SUNDAY, NEXT_MONDAY = SUNDAY + timedelta(days=7), SUNDAY + timedelta(days=8)
SITE_A_KEY = "bojnurd-imam-reza/radiology"
SITE_B_KEY = "shirvan-imam-khomeini/radiology"
NO_ANSWERS_BLOCK = {"pregnancy": False, "pacemaker": False}


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """``day`` at ``hh:mm`` in Tehran."""
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


def whole_day(day: date) -> tuple[datetime, datetime]:
    """From midnight to midnight of ``day`` in Tehran."""
    return at(day, 0), at(day + timedelta(days=1), 0)


async def built(env: ClinicEnv) -> TwoSites:
    """The two sites, committed."""
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        await uow.commit()
    return two


async def referral_at(
    uow: UnitOfWork, patient: int, exam: Exam, site: int | None, actor: Actor | None = None
) -> Referral:
    """The patient's e-prescription referral for ``exam`` with the centre ``site`` chosen."""
    request = ReferralRequest(
        patient, exam.id, "tamin", NO_ANSWERS_BLOCK, tracking_code=tracking_code(), site_id=site
    )
    return await submit_referral(uow, actor or Actor.patient(patient), request)


async def booked_at(
    uow: UnitOfWork,
    n: int,
    exam: Exam,
    device: Device,
    site: int,
    start: datetime,
    actor: Actor | None = None,
) -> Booking:
    """Patient ``n``, registered now, books ``exam`` at ``site`` on ``device`` at ``start``
    (in chat, or through ``actor``)."""
    patient = await add_patient(uow, n)
    who = actor or Actor.patient(patient)
    referral = await referral_at(uow, patient, exam, site, who)
    if referral.status == ReferralStatus.SUBMITTED:
        await review_referral(uow, RECEPTION, referral.id, approve=True)
    held = await hold_slot(uow, who, referral.id, device.id, start)
    return await confirm_booking(uow, who, held.id)


# 1-2. Which centre, and booked only there.


async def test_a_patient_is_offered_the_centre_with_the_earlier_day(env: ClinicEnv) -> None:
    two = await built(env)
    ct_brain = two.dept.ct_brain
    async with env.uow() as uow:
        # Site A's CT is in for service all week; site B's is off the Monday after.
        service = ClosureRequest(two.dept.ct.id, at(SUNDAY, 0), at(NEXT_SUNDAY, 0), "سرویس")
        await close(uow, ADMIN, service)
        await close(uow, ADMIN, ClosureRequest(two.ct_b.id, *whole_day(NEXT_MONDAY), "تعمیر"))
        await uow.commit()
    async with env.uow() as uow:
        anywhere = await centres_for(uow, ct_brain.id)
        from_bojnurd = await centres_for(uow, ct_brain.id, county="بجنورد")
    assert [(c.site.id, c.earliest, c.near) for c in anywhere] == [
        (two.site_b, SUNDAY, False),
        (two.site_a, NEXT_SUNDAY, False),
    ]
    # A patient of Bojnurd county is offered their own county's centre first, though later.
    assert [(c.site.id, c.earliest, c.near) for c in from_bojnurd] == [
        (two.site_a, NEXT_SUNDAY, True),
        (two.site_b, SUNDAY, False),
    ]

    async with env.uow() as uow:
        patient = await add_patient(uow, 0)
        referral = await referral_at(uow, patient, ct_brain, two.site_b)
        await uow.commit()
    assert (referral.status, referral.department_id) == (ReferralStatus.APPROVED, two.site_b)
    me = Actor.patient(patient)
    async with env.uow() as uow:
        free_at_a = await bookable_times(uow, ct_brain.id, NEXT_SUNDAY, site=two.site_a)
        assert free_at_a, "site A's CT is open again next Sunday"
        with pytest.raises(SlotUnavailable):
            await hold_slot(uow, me, referral.id, two.dept.ct.id, free_at_a[0].starts_at)
    async with env.uow() as uow:
        days_b = [d.day for d in await bookable_days(uow, ct_brain.id, site=two.site_b)]
        days_any = [d.day for d in await bookable_days(uow, ct_brain.id)]
        times_b = await bookable_times(uow, ct_brain.id, MONDAY, site=two.site_b)
        held = await hold_slot(uow, me, referral.id, two.ct_b.id, at(MONDAY, 9))
        await uow.commit()
    assert days_b[0] == SUNDAY
    assert NEXT_MONDAY not in days_b and NEXT_MONDAY in days_any  # B is shut; A is open
    assert {t.device_id for t in times_b} == {two.ct_b.id}
    assert held.device_id == two.ct_b.id


async def test_an_exam_one_site_does_goes_to_that_site_unasked(env: ClinicEnv) -> None:
    two = await built(env)
    async with env.uow() as uow:
        assert await sites_doing(uow, two.dept.mri_knee.id) == 1
        assert await sites_doing(uow, two.dept.ct_brain.id) == 2
        patient = await add_patient(uow, 0)
        referral = await referral_at(uow, patient, two.dept.mri_knee, None)
        await uow.commit()
    assert referral.department_id == two.site_a
    async with env.uow() as uow:
        other = await add_patient(uow, 1)
        with pytest.raises(InvalidInput, match="does not do this exam"):
            await referral_at(uow, other, two.dept.mri_knee, two.site_b)
        assert await uow.session.scalar(select(func.count(Referral.id))) == 1


# 3. Staff held to a site.


@dataclass(frozen=True)
class SiteRecords:
    """One site's records that its staff work on: a referral waiting for review; bookings for
    Monday 09:00 (to admit), 09:15 (missed), Tuesday (to cancel) and one admitted on Monday
    08:00 whose report is final; a closure of its CT on Wednesday."""

    site: int
    device: int
    pending: int
    booked: int
    missed: int
    later: int
    admitted: int
    report: int
    pickup_code: str
    closure: int


async def site_records(
    env: ClinicEnv, two: TwoSites, site: int, device: Device, first: int, accession: str
) -> SiteRecords:
    """``SiteRecords`` at ``site`` on ``device``, patients ``first`` to ``first + 4``."""
    ct_brain, ct_contrast = two.dept.ct_brain, two.dept.ct_contrast
    async with env.uow() as uow:
        booked = await booked_at(uow, first, ct_brain, device, site, at(MONDAY, 9))
        missed = await booked_at(uow, first + 1, ct_brain, device, site, at(MONDAY, 9, 15))
        later = await booked_at(uow, first + 2, ct_brain, device, site, at(TUESDAY, 9))
        admitted = await booked_at(uow, first + 3, ct_brain, device, site, at(MONDAY, 8))
        await check_in(uow, RECEPTION, admitted.id, accession_number=accession)
        pending = await referral_at(uow, await add_patient(uow, first + 4), ct_contrast, site)
        shut = await close(
            uow, ADMIN, ClosureRequest(device.id, at(WEDNESDAY, 10), at(WEDNESDAY, 11), "تعمیر")
        )
        await uow.commit()
    async with env.uow() as uow:
        await report_event(
            uow, source="his", accession_number=accession, kind=ReportEvent.FINAL,
            occurred_at=env.clock.now(), site=site,
        )  # fmt: skip
        await uow.commit()
        report = await uow.session.scalar(select(Report).where(Report.booking_id == admitted.id))
    assert report is not None and pending.status == ReferralStatus.SUBMITTED
    return SiteRecords(
        site, device.id, pending.id, booked.id, missed.id, later.id, admitted.id, report.id,
        report.pickup_code, shut.closure_id,
    )  # fmt: skip


async def site_state(env: ClinicEnv, records: SiteRecords) -> list[object]:
    """What staff could change of a site's records: bookings, referral, report, closures."""
    async with env.uow() as uow:
        bookings = await uow.session.execute(
            select(Booking.id, Booking.status, Booking.starts_at, Booking.device_id)
            .where(Booking.device_id == records.device)
            .order_by(Booking.id)
        )
        referral = await uow.session.get_one(Referral, records.pending)
        report = await uow.session.get_one(Report, records.report)
        closures = await uow.session.execute(
            select(Closure.id, Closure.cancelled_at, Closure.starts_at)
            .where(Closure.device_id == records.device)
            .order_by(Closure.id)
        )
        return [
            list(bookings.tuples()),
            (referral.status, referral.reviewer_id),
            (report.collected_at, report.collected_to),
            list(closures.tuples()),
        ]


Attempt = Callable[["UnitOfWork"], Awaitable[object]]


async def forged_presses(
    env: ClinicEnv, attempts: dict[str, tuple[Attempt, type[Exception]]]
) -> list[str]:
    """Run each attempt in its own unit of work (never committed); the names of those that did
    not fail as a record not there does (with what happened instead)."""
    leaked = []
    for name, (attempt, refusal) in attempts.items():
        async with env.uow() as uow:
            try:
                await attempt(uow)
            except refusal:
                continue
            except Exception as exc:  # anything else tells the caller something
                leaked.append(f"{name}: {type(exc).__name__}")
                continue
            leaked.append(f"{name}: succeeded")
    return leaked


def forged_by(
    who: str, staff: Actor, b: SiteRecords
) -> dict[str, tuple[Attempt, type[Exception]]]:
    """What reception's and the admin's presses could name of site B's records, each with the
    refusal expected (the answer for a record that is not there)."""
    forged: dict[str, Attempt] = {
        "get_referral": lambda u: get_referral(u, staff, b.pending),
        "approve_referral": lambda u: review_referral(u, staff, b.pending, approve=True),
        "reject_referral": lambda u: review_referral(
            u, staff, b.pending, approve=False, reason="ناخوانا"
        ),
        "get_booking": lambda u: get_booking(u, staff, b.booked),
        "get_admitted_booking": lambda u: get_booking(u, staff, b.admitted),
        "day_list": lambda u: day_list(u, staff, b.device, MONDAY),
        "check_in": lambda u: check_in(u, staff, b.booked),
        "mark_no_show": lambda u: mark_no_show(u, staff, b.missed),
        "cancel_booking": lambda u: cancel_booking(u, staff, b.later, reason="staff"),
        "walk_in_queue": lambda u: queue(u, staff, b.device, MONDAY),
        "hand_over": lambda u: hand_over(u, staff, b.report, to="patient"),
    }
    found: dict[str, tuple[Attempt, type[Exception]]] = {
        f"{who} {name}": (attempt, NotFound) for name, attempt in forged.items()
    }
    found[f"{who} look_up"] = (lambda u: look_up(u, staff, b.pickup_code), NoSuchPickupCode)
    return found


async def test_staff_held_to_site_a_find_nothing_of_site_b(env: ClinicEnv) -> None:
    two = await built(env)
    a = await site_records(env, two, two.site_a, two.dept.ct, 0, "A-1001")
    b = await site_records(env, two, two.site_b, two.ct_b, 5, "B-1001")
    env.clock.set(at(MONDAY, 10))  # the 09:15 appointments have passed
    reception_a = two.reception_at(two.site_a)
    admin_a = Actor.staff(1, [Role.ADMIN], sites=[two.site_a])
    before = await site_state(env, b)
    wednesday = at(WEDNESDAY, 12), at(WEDNESDAY, 13)

    attempts = forged_by("reception", reception_a, b) | forged_by("admin", admin_a, b)
    attempts |= {
        "admin cancel_closure": (lambda u: cancel_closure(u, admin_a, b.closure), NotFound),
        "admin close device": (
            lambda u: close(u, admin_a, ClosureRequest(b.device, *wednesday, "تعمیر")),
            NotFound,
        ),
        "admin close site": (
            lambda u: close(u, admin_a, ClosureRequest(None, *wednesday, "تعمیر", site_id=b.site)),
            NotFound,
        ),
    }
    assert len(attempts) >= 20
    assert await forged_presses(env, attempts) == []
    async with env.uow() as uow:
        waiting = [r.id for r in await pending_review(uow, reception_a)]
        ahead = [c.id for c in await closures_ahead(uow, actor=admin_a)]
    assert waiting == [a.pending]
    assert ahead == [a.closure]
    assert await site_state(env, b) == before

    # The same at site A: each works.
    async with env.uow() as uow:
        assert (await get_referral(uow, reception_a, a.pending)).id == a.pending
        approved = await review_referral(uow, reception_a, a.pending, approve=True)
        assert approved.status == ReferralStatus.APPROVED
        assert (await get_booking(uow, reception_a, a.booked)).id == a.booked
        listed = [row.booking.id for row in await day_list(uow, reception_a, a.device, MONDAY)]
        assert listed == [a.admitted, a.booked, a.missed]
        assert (await check_in(uow, reception_a, a.booked)).status == BookingStatus.CHECKED_IN
        assert (await mark_no_show(uow, reception_a, a.missed)).status == BookingStatus.NO_SHOW
        cancelled = await cancel_booking(uow, reception_a, a.later, reason="staff")
        assert cancelled.status == BookingStatus.CANCELLED
        assert await queue(uow, reception_a, a.device, MONDAY) == []
        assert (await look_up(uow, reception_a, a.pickup_code)).report_id == a.report
        collected = await hand_over(uow, reception_a, a.report, to="patient")
        assert collected.collected_at == env.clock.now()
        await cancel_closure(uow, admin_a, a.closure)
        shut = await close(uow, admin_a, ClosureRequest(a.device, *wednesday, "تعمیر"))
        await uow.commit()
    async with env.uow() as uow:
        assert [c.id for c in await closures_ahead(uow, actor=admin_a)] == [shut.closure_id]
    assert await site_state(env, b) == before


# 4. Closing a whole site.


async def test_a_whole_site_closure_moves_bookings_within_the_site(env: ClinicEnv) -> None:
    two = await built(env)
    dept = two.dept
    async with env.uow() as uow:
        at_a = [
            await booked_at(uow, 0, dept.ct_brain, dept.ct, two.site_a, at(MONDAY, 9)),
            await booked_at(uow, 1, dept.ct_brain, dept.ct, two.site_a, at(MONDAY, 9, 15)),
            await booked_at(uow, 2, dept.mri_knee, dept.mri, two.site_a, at(MONDAY, 9)),
        ]
        at_b = await booked_at(uow, 3, dept.ct_brain, two.ct_b, two.site_b, at(MONDAY, 9))
        await uow.commit()
    async with env.uow() as uow:
        request = ClosureRequest(None, *whole_day(MONDAY), "قطع برق", site_id=two.site_a)
        result = await close(uow, ADMIN, request)
        await uow.commit()
    assert (result.affected, result.moved, result.cancelled) == (3, 3, 0)
    async with env.uow() as uow:
        moved = [await uow.session.get_one(Booking, i) for i in result.moved_ids]
        old = [await uow.session.get_one(Booking, b.id) for b in at_a]
        b_now = await uow.session.get_one(Booking, at_b.id)
        free_a = await bookable_times(uow, dept.ct_brain.id, MONDAY, site=two.site_a)
        free_b = await bookable_times(uow, dept.ct_brain.id, MONDAY, site=two.site_b)
    # B's CT had Monday free from 09:15, yet every booking stays at site A, on a later day.
    assert {b.device_id for b in moved} <= {dept.ct.id, dept.mri.id}
    assert sorted(b.patient_id for b in moved) == sorted(b.patient_id for b in at_a)
    assert all(b.starts_at >= at(TUESDAY, 0) for b in moved)
    assert {b.status for b in old} == {BookingStatus.RESCHEDULED}
    assert (b_now.status, b_now.starts_at, b_now.device_id) == (
        BookingStatus.CONFIRMED, at_b.starts_at, two.ct_b.id
    )  # fmt: skip
    assert free_a == [] and free_b


async def test_an_admin_held_to_a_site_closing_the_department_closes_theirs(
    env: ClinicEnv,
) -> None:
    two = await built(env)
    dept = two.dept
    async with env.uow() as uow:
        a_booking = await booked_at(uow, 0, dept.ct_brain, dept.ct, two.site_a, at(TUESDAY, 9))
        b_booking = await booked_at(uow, 1, dept.ct_brain, two.ct_b, two.site_b, at(TUESDAY, 9))
        await uow.commit()
    admin_a = Actor.staff(1, [Role.ADMIN], sites=[two.site_a])
    async with env.uow() as uow:
        request = ClosureRequest(None, *whole_day(TUESDAY), "تعطیلی بخش")  # "the department"
        result = await close(uow, admin_a, request)
        await uow.commit()
    async with env.uow() as uow:
        closure = await uow.session.get_one(Closure, result.closure_id)
        a_now = await uow.session.get_one(Booking, a_booking.id)
        b_now = await uow.session.get_one(Booking, b_booking.id)
        free_a = await bookable_times(uow, dept.ct_brain.id, TUESDAY, site=two.site_a)
        free_b = await bookable_times(uow, dept.ct_brain.id, TUESDAY, site=two.site_b)
    assert (closure.device_id, closure.department_id) == (None, two.site_a)
    assert (result.affected, result.moved) == (1, 1)
    assert a_now.status == BookingStatus.RESCHEDULED
    assert (b_now.status, b_now.starts_at) == (BookingStatus.CONFIRMED, at(TUESDAY, 9))
    assert free_a == [] and free_b


# 5. Broadcasts.


async def test_a_broadcast_by_staff_of_a_site_reaches_that_sites_patients(env: ClinicEnv) -> None:
    two = await built(env)
    async with env.uow() as uow:
        at_a = await booked_at(uow, 0, two.dept.ct_brain, two.dept.ct, two.site_a, at(MONDAY, 9))
        at_b = await booked_at(uow, 1, two.dept.ct_brain, two.ct_b, two.site_b, at(MONDAY, 9))
        await uow.commit()
    broadcaster_a = Actor.staff(1, [Role.BROADCASTER], sites=[two.site_a])
    everywhere = Actor.staff(1, [Role.BROADCASTER])
    async with env.uow() as uow:
        draft_a, count_a = await draft_broadcast(
            uow, broadcaster_a, "بخش فردا از ساعت ۱۰ کار می‌کند.", Audience("future")
        )
        _, reached_a = await recipients(uow, Audience.from_json(draft_a.audience))
        b_device = Audience("device", two.ct_b.id, MONDAY, MONDAY)
        with pytest.raises(NotFound):
            await draft_broadcast(uow, broadcaster_a, "اطلاعیه", b_device)
        b_patients = Audience("future", site_id=two.site_b)
        with pytest.raises(NotFound):
            await draft_broadcast(uow, broadcaster_a, "اطلاعیه", b_patients)
        draft_all, count_all = await draft_broadcast(
            uow, everywhere, "اطلاعیهٔ دانشگاه", Audience("future", site_id=None)
        )
        _, reached_all = await recipients(uow, Audience.from_json(draft_all.audience))
    assert (count_a, reached_a) == (1, [at_a.patient_id])
    assert Audience.from_json(draft_a.audience).site_id == two.site_a
    assert (count_all, reached_all) == (2, sorted([at_a.patient_id, at_b.patient_id]))


# 6. The e-booking share.


async def test_the_booking_share_counts_each_site(env: ClinicEnv) -> None:
    two = await built(env)
    dept = two.dept
    async with env.uow() as uow:
        await booked_at(uow, 0, dept.ct_brain, dept.ct, two.site_a, at(MONDAY, 9))
        await booked_at(uow, 1, dept.ct_brain, dept.ct, two.site_a, at(MONDAY, 9, 15))
        await booked_at(uow, 2, dept.mri_knee, dept.mri, two.site_a, at(MONDAY, 9))
        await booked_at(uow, 3, dept.ct_brain, two.ct_b, two.site_b, at(MONDAY, 9))
        await booked_at(uow, 4, dept.ct_brain, two.ct_b, two.site_b, at(MONDAY, 10), RECEPTION)
        await uow.commit()
    async with env.uow() as uow:
        every = await booking_share(uow, MONDAY, MONDAY)
        only_a = await booking_share(uow, MONDAY, MONDAY, site_ids=[two.site_a])
    by_site = {site: (row.total, row.electronic) for site, row in every.by_site.items()}
    assert by_site == {two.site_a: (3, 3), two.site_b: (2, 1)}
    assert every.by_site[two.site_b].by_channel == {BookingChannel.CHAT: 1, BookingChannel.DESK: 1}
    assert (every.total.total, every.total.electronic) == (5, 4)
    assert list(only_a.by_site) == [two.site_a]
    assert (only_a.total.total, only_a.total.electronic) == (3, 3)
    assert [(r.modality, r.total) for r in only_a.by_modality] == [("CT", 2), ("MR", 1)]


# 7. Staff given their sites.


async def test_staff_are_held_to_the_sites_they_are_given(env: ClinicEnv) -> None:
    two = await built(env)
    admin_a = Actor.staff(1, [Role.ADMIN], sites=[two.site_a])
    async with env.uow() as uow:
        member = await add_staff(
            uow, ADMIN, full_name="پذیرش شیروان", roles=["reception"], telegram_user_id=7001,
            sites=[SITE_B_KEY],
        )  # fmt: skip
        await uow.commit()
    async with env.uow() as uow:
        actor = await staff_actor(uow, Platform.TELEGRAM, 7001)
    assert actor is not None
    assert (actor.id, actor.roles, actor.sites) == (
        member.id, frozenset({Role.RECEPTION}), frozenset({two.site_b})
    )  # fmt: skip

    async with env.uow() as uow:
        await set_staff_sites(uow, ADMIN, member.id, [SITE_A_KEY, SITE_B_KEY])
        await uow.commit()
    async with env.uow() as uow:
        actor = await staff_actor(uow, Platform.TELEGRAM, 7001)
    assert actor is not None and actor.sites == frozenset({two.site_a, two.site_b})

    async with env.uow() as uow:
        await set_staff_sites(uow, ADMIN, member.id, [])
        await uow.commit()
    async with env.uow() as uow:
        actor = await staff_actor(uow, Platform.TELEGRAM, 7001)
    assert actor is not None and actor.sites is None  # university-wide

    async with env.uow() as uow:
        with pytest.raises(NotFound):
            await add_staff(uow, ADMIN, full_name="کسی", roles=["reception"],
                            sites=["nowhere/radiology"])  # fmt: skip
        with pytest.raises(NotFound):
            await set_staff_sites(uow, ADMIN, member.id, ["bojnurd-imam-reza/nowhere"])
        with pytest.raises(NotAllowed):
            await add_staff(uow, admin_a, full_name="کسی", roles=["reception"],
                            sites=[SITE_B_KEY])  # fmt: skip
        # Naming no site, a site's admin adds a member of their own site (never one of all).
        theirs = await add_staff(uow, admin_a, full_name="پذیرش", roles=["reception"])
        await uow.session.flush()
        assert [s.department_id for s in theirs.sites] == [two.site_a]
        mine = await add_staff(
            uow, admin_a, full_name="پذیرش بجنورد", roles=["reception"], sites=[SITE_A_KEY]
        )
        with pytest.raises(NotAllowed):
            await set_staff_sites(uow, admin_a, mine.id, [SITE_A_KEY, SITE_B_KEY])


async def test_a_place_freed_at_one_site_goes_to_that_sites_waitlist_only(env: ClinicEnv) -> None:
    two = await built(env)
    ct_brain = two.dept.ct_brain
    async with env.uow() as uow:
        freed = await booked_at(uow, 60, ct_brain, two.dept.ct, two.site_a, at(MONDAY, 9))
        # Both wait for an earlier CT brain: one chose Shirvan, the other Bojnurd.
        waiting = []
        for n, site, device in ((61, two.site_b, two.ct_b), (62, two.site_a, two.dept.ct)):
            later = await booked_at(uow, n, ct_brain, device, site, at(NEXT_MONDAY, 9 + n - 61))
            env.clock.advance(minutes=1)
            entry = await join_waitlist(
                uow, Actor.patient(later.patient_id), later.referral_id, THURSDAY
            )
            waiting.append((later.patient_id, entry.id))
        await uow.commit()
        await cancel_booking(uow, Actor.patient(freed.patient_id), freed.id)
        await uow.commit()
        offers = await pending(uow, kind="waitlist_offer")
    # Shirvan's patient joined first, but the place is Bojnurd's: Bojnurd's patient gets it.
    assert [o.recipient_id for o in offers] == [waiting[1][0]]


async def test_a_role_may_be_held_at_a_site_while_another_is_university_wide(
    env: ClinicEnv,
) -> None:
    two = await built(env)
    async with env.uow() as uow:
        member = await add_staff(
            uow, ADMIN, full_name="کارشناس", roles=["reception", "reporting"],
            telegram_user_id=7002,
        )  # fmt: skip
        await set_staff_sites(uow, ADMIN, member.id, [SITE_A_KEY], role="reception")
        at_b = await referral_at(uow, await add_patient(uow, 70), two.dept.ct_contrast, two.site_b)
        for site in (two.site_a, two.site_b):
            await report_event(
                uow, source="hl7", accession_number=f"ROLE-{site}", kind=ReportEvent.FINAL,
                occurred_at=at(MONDAY, 12), site=site,
            )  # fmt: skip
        await uow.commit()
    async with env.uow() as uow:
        by_id = await staff_actor(uow, Platform.TELEGRAM, 7002)
        by_chat = (await chat_identity(uow, Platform.TELEGRAM, 7002)).staff
    assert by_id is not None and by_id == by_chat
    assert by_id.require_role(Role.RECEPTION).sites == frozenset({two.site_a})
    assert by_id.require_role(Role.REPORTING).sites is None
    async with env.uow() as uow:
        # Reception is Bojnurd's only: Shirvan's referral is not theirs to review …
        with pytest.raises(NotFound):
            await review_referral(uow, by_id, at_b.id, approve=True)
        assert [r.id for r in await pending_review(uow, by_id)] == []
        # … while reporting is the university's: every site's hospital events.
        events = await unmatched_events(uow, by_id)
    assert sorted(e.site_id for e in events) == sorted([two.site_a, two.site_b])
    async with env.uow() as uow:
        rows = await staff_rows(uow)
    assert [r.sites for r in rows if r.id == member.id] == [(f"{SITE_A_KEY} (reception)",)]
