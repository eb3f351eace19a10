"""Two sites through the bot, the quick way: a patient is offered the centre with the earlier
day (a health worker the one of their county first) and books there only, and reception of one
site pressing buttons forged for the other site's bookings and referrals gets nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot import booking_steps, request_steps
from bot.staff import admin as admin_steps
from bot.staff import reporting
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.closures import ClosureRequest, close
from clinic.daylist import check_in
from clinic.errors import NotFound
from clinic.jalali import jalali_iso, tehran_datetime, to_tehran
from clinic.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Closure,
    Device,
    Exam,
    HealthHouse,
    Platform,
    Referral,
    ReferralStatus,
    Report,
    UnmatchedEvent,
)
from clinic.patients import PatientDetails, link_chat_account, register_patient
from clinic.referrals import ReferralRequest, submit_referral
from clinic.reports import ReportEvent, report_event
from clinic.staff import add_staff
from clinic.text import to_persian_digits
from tests.factories import RECEPTION, add_patient, national_code, worker_proof
from tests.handlers.offline import OfflineBot, OfflineChat, inline_buttons, shown
from tests.handlers.test_registration_steps import WORKER_USER, add_worker
from tests.two_sites import booked, build_two_sites

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Seed

PATIENT_USER, CLERK = 7301, 7302
SITE_A_KEY = "bojnurd-imam-reza/radiology"


@pytest.fixture
def seed() -> Seed:
    """Bojnurd (a CT and an MRI) and Shirvan (a CT), both doing the CT exams."""
    return build_two_sites


@dataclass(frozen=True)
class _Ids:
    site_a: int
    site_b: int
    ct_a: int
    ct_b: int
    ct_brain: int
    ct_contrast: int


async def _ids(env: ClinicEnv) -> _Ids:
    async with env.uow() as uow:
        devices = dict((await uow.session.execute(select(Device.code, Device.id))).tuples().all())
        sites = dict(
            (await uow.session.execute(select(Device.code, Device.department_id))).tuples().all()
        )
        exams = dict((await uow.session.execute(select(Exam.code, Exam.id))).tuples().all())
    site_a, site_b = sites["CT-1"], sites["CT-SHIRVAN"]
    assert site_a is not None and site_b is not None
    return _Ids(
        site_a, site_b, devices["CT-1"], devices["CT-SHIRVAN"],
        exams["CT-BRAIN"], exams["CT-ABD-C"],
    )  # fmt: skip


async def _close_a_for_two_weeks(env: ClinicEnv, ids: _Ids) -> None:
    """Bojnurd's CT is shut for a fortnight: Shirvan has the earlier day."""
    async with env.uow() as uow:
        today = to_tehran(uow.clock.now()).date()
        start = tehran_datetime(today, time.min)
        request = ClosureRequest(ids.ct_a, start, start + timedelta(days=14), "تعمیر دستگاه")
        await close(uow, Actor.system(), request)
        await uow.commit()


async def _patient_chat(bot: OfflineBot, env: ClinicEnv) -> OfflineChat:
    async with env.uow() as uow:
        patient = await add_patient(uow, 31)
        await link_chat_account(uow, patient, Platform.TELEGRAM, PATIENT_USER, PATIENT_USER)
        await uow.commit()
    return bot.chat(PATIENT_USER)


async def test_the_patient_is_offered_the_centre_with_the_earlier_day_and_books_there(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ids = await _ids(sqlite_env)
    await _close_a_for_two_weeks(sqlite_env, ids)
    patient = await _patient_chat(bot, sqlite_env)
    await patient.say("/request")
    await patient.press("mod:CT")
    calls = await patient.press(f"exam:{ids.ct_brain}")
    (text,) = shown(calls)
    assert text.startswith(patient._(request_steps.CHOOSE_CENTRE))
    offered = [data for _, data in inline_buttons(calls)]
    assert offered == [f"ctr:{ids.site_b}", f"ctr:{ids.site_a}"]  # Shirvan is earlier
    assert "شیروان" in inline_buttons(calls)[0][0]
    assert shown(await patient.press("ctr:999")) == []  # not a centre of this exam: ignored
    assert shown(await patient.press(f"ctr:{ids.site_b}")) == [patient._(request_steps.ASK_SOURCE)]
    await patient.say("۱۲۳۴۵۶۷۸۹")
    calls = await patient.press("ins:tamin")
    assert shown(calls)[-1] == patient._(booking_steps.CHOOSE_DAY)
    async with sqlite_env.uow() as uow:
        referral = await uow.session.scalar(select(Referral))
        assert referral is not None and referral.department_id == ids.site_b
        first = (await bookable_days(uow, ids.ct_brain, site=ids.site_b))[0].day
    day_buttons = [data for _, data in inline_buttons(calls) if data.startswith("day:")]
    assert day_buttons[0] == f"day:ref:{referral.id}:{first:%Y%m%d}"
    calls = await patient.press(day_buttons[0])
    holds = [data for _, data in inline_buttons(calls) if data.startswith("hold:")]
    assert holds and all(f":{ids.ct_b}:" in data for data in holds)
    # A hold forged for Bojnurd's CT at that time holds Shirvan's (the centre chosen) instead.
    forged = holds[0].replace(f":{ids.ct_b}:", f":{ids.ct_a}:")
    await patient.press(forged)
    card = "\n".join(shown(await patient.press(holds[0])))
    assert "بیمارستان امام خمینی (ره) شیروان" in card  # the card names the centre
    async with sqlite_env.uow() as uow:
        devices = set(await uow.session.scalars(select(Booking.device_id)))
    assert devices == {ids.ct_b}


async def test_a_health_worker_sees_the_centres_of_their_county_first(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ids = await _ids(sqlite_env)
    await _close_a_for_two_weeks(sqlite_env, ids)
    worker_id = await add_worker(sqlite_env)
    async with sqlite_env.uow() as uow:
        house = await uow.session.scalar(select(HealthHouse))
        assert house is not None
        house.county = "بجنورد"  # Bojnurd's county: its centre comes first, though later
        details = PatientDetails(
            national_code=national_code(32), mobile="09131234500", first_name="زهرا",
            last_name="کریمی", birth_year=1340, sex="male",
        )  # fmt: skip
        proof = await worker_proof(uow, worker_id, details.national_code, details.mobile)
        theirs = await register_patient(
            uow, Actor.health_worker(worker_id), details, consent=True, proof=proof
        )
        await uow.commit()
    chat = bot.chat(WORKER_USER)
    await chat.press(f"wreq:{theirs.id}")
    await chat.press(f"wmod:{theirs.id}:CT")
    calls = await chat.press(f"wexam:{theirs.id}:{ids.ct_brain}")
    assert [data for _, data in inline_buttons(calls)] == [
        f"wctr:{ids.site_a}",
        f"wctr:{ids.site_b}",
    ]
    assert shown(await chat.press(f"wctr:{ids.site_b}"))[-1].endswith(
        chat._(request_steps.ASK_SOURCE)
    )


async def _site_b_records(env: ClinicEnv, ids: _Ids) -> tuple[Booking, int, Report]:
    """At Shirvan: a confirmed booking, a referral waiting for review and a final report."""
    async with env.uow() as uow:
        ct_brain = await uow.session.get_one(Exam, ids.ct_brain)
        ct_b = await uow.session.get_one(Device, ids.ct_b)
        first = (await bookable_days(uow, ids.ct_brain, site=ids.site_b))[0].day
        free = await bookable_times(uow, ids.ct_brain, first, site=ids.site_b)
        booking = await booked(uow, await add_patient(uow, 41), ct_brain, ct_b, free[0].starts_at)
        seen = await booked(uow, await add_patient(uow, 42), ct_brain, ct_b, free[1].starts_at)
        await check_in(uow, RECEPTION, seen.id, accession_number="SH-1")
        await report_event(
            uow, source="his", accession_number="SH-1", kind=ReportEvent.FINAL,
            occurred_at=uow.clock.now(), site=ids.site_b,
        )  # fmt: skip
        other = await add_patient(uow, 43)
        waiting = await submit_referral(
            uow,
            Actor.patient(other),
            ReferralRequest(
                other, ids.ct_contrast, "tamin", {"pregnancy": False},
                tracking_code="777888999", site_id=ids.site_b,
            ),
        )  # fmt: skip
        report = await uow.session.scalar(select(Report).where(Report.booking_id == seen.id))
        await uow.commit()
    assert report is not None and waiting.status == ReferralStatus.SUBMITTED
    return booking, waiting.id, report


async def test_reception_of_one_site_forging_presses_on_the_others_records_gets_nowhere(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ids = await _ids(sqlite_env)
    booking, referral_id, report = await _site_b_records(sqlite_env, ids)
    async with sqlite_env.uow() as uow:
        await add_staff(
            uow, Actor.system(), full_name="پذیرش بجنورد", roles=("reception",),
            telegram_user_id=CLERK, sites=[SITE_A_KEY],
        )  # fmt: skip
        await uow.commit()
    clerk = bot.chat(CLERK)
    b, r, p, d = booking.id, referral_id, report.id, ids.ct_b
    forged = [
        f"srv:{r}", f"srok:{r}", f"srx:{r}", f"srxr:{r}:0", f"srxr:{r}:1", f"srxt:{r}",
        f"sbk:{b}", f"sci:{b}", f"sacc:{b}", f"sns:{b}", f"scx:{b}", f"scxok:{b}",
        f"sdl:{d}", f"sq:{d}", f"spup:{p}", f"spux:{p}", f"srv:{r}", f"sci:{b}",
        f"scxok:{b}", f"spup:{p}",
    ]  # fmt: skip
    assert len(forged) == 20
    said: list[str] = []
    for data in forged:
        said += shown(await clerk.press(data))
    said += shown(await clerk.press("sref"))  # the referrals waiting: none of Shirvan's
    text = "\n".join(said)
    assert clerk._(NotFound.message) in text
    assert booking.code not in text and to_persian_digits(booking.code) not in text
    assert to_persian_digits(report.pickup_code) not in text
    async with sqlite_env.uow() as uow:
        after = await uow.session.get_one(Booking, booking.id)
        assert (after.status, after.checked_in_at) == (BookingStatus.CONFIRMED, None)
        waiting = await uow.session.get_one(Referral, referral_id)
        assert waiting.status == ReferralStatus.SUBMITTED
        collected = await uow.session.get_one(Report, report.id)
        assert collected.collected_at is None
        done = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.actor_kind == "staff", AuditEntry.actor_id != RECEPTION.id
            )
        )
        assert done == 0  # not one of the 20 presses did anything
    # The same presses on Bojnurd's own records work: admitting its patient, say.
    async with sqlite_env.uow() as uow:
        ct_brain = await uow.session.get_one(Exam, ids.ct_brain)
        ct_a = await uow.session.get_one(Device, ids.ct_a)
        first = (await bookable_days(uow, ids.ct_brain, site=ids.site_a))[0].day
        free = await bookable_times(uow, ids.ct_brain, first, site=ids.site_a)
        own = await booked(uow, await add_patient(uow, 44), ct_brain, ct_a, free[0].starts_at)
        await uow.commit()
    await clerk.press(f"sci:{own.id}")
    async with sqlite_env.uow() as uow:
        admitted = await uow.session.get_one(Booking, own.id)
        assert admitted.status == BookingStatus.CHECKED_IN


async def test_an_admin_closes_their_own_site_whole_and_not_the_others(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ids = await _ids(sqlite_env)
    async with sqlite_env.uow() as uow:
        await add_staff(
            uow, Actor.system(), full_name="مدیر بجنورد", roles=("admin",),
            telegram_user_id=CLERK, sites=[SITE_A_KEY],
        )  # fmt: skip
        await uow.commit()
    admin = bot.chat(CLERK)
    calls = await admin.press("scl")
    offered = dict(inline_buttons(calls))
    assert offered[admin._(admin_steps.WHOLE_SITE).format(site=_bojnurd_name())] == (
        f"scls:{ids.site_a}"
    )
    assert f"scls:{ids.site_b}" not in offered.values()
    assert f"scld:{ids.ct_b}" not in offered.values()  # nor Shirvan's CT
    hospital = "بیمارستان امام رضا (ع) بجنورد"  # each device is told apart by its hospital
    assert offered[f"سی‌تی‌اسکن · {hospital}"] == f"scld:{ids.ct_a}"
    assert admin._(admin_steps.EVERY_SITE) not in offered
    assert shown(await admin.press(f"scls:{ids.site_b}")) == [admin._(NotFound.message)]
    await admin.press(f"scls:{ids.site_a}")
    tomorrow = to_tehran(sqlite_env.clock.now()).date() + timedelta(days=1)
    await admin.say(jalali_iso(tomorrow))
    await admin.say("تعمیر برق")
    await admin.press("sclok")
    async with sqlite_env.uow() as uow:
        closed = list(await uow.session.scalars(select(Closure)))
    assert [(c.device_id, c.department_id) for c in closed] == [(None, ids.site_a)]


def _bojnurd_name() -> str:
    return "بخش تصویربرداری بیمارستان امام رضا (ع) بجنورد"


async def test_reporting_says_whose_report_it_is_where_there_are_several_sites(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ids = await _ids(sqlite_env)
    async with sqlite_env.uow() as uow:
        await add_staff(
            uow, Actor.system(), full_name="گزارش", roles=("reporting",), telegram_user_id=CLERK
        )
        await add_staff(
            uow, Actor.system(), full_name="گزارش بجنورد", roles=("reporting",),
            telegram_user_id=CLERK + 1, sites=[SITE_A_KEY],
        )  # fmt: skip
        await uow.commit()
    everywhere, bojnurd = bot.chat(CLERK), bot.chat(CLERK + 1)
    calls = await everywhere.press("srpf")
    assert shown(calls) == [everywhere._(reporting.WHOSE)]
    offered = [data for _, data in inline_buttons(calls)]
    assert offered[:2] == [f"srps:f:{ids.site_a}", f"srps:f:{ids.site_b}"]
    assert shown(await everywhere.press(f"srps:f:{ids.site_b}")) == [everywhere._(reporting.ASK)]
    await everywhere.say("SH-9")
    async with sqlite_env.uow() as uow:
        kept = list(await uow.session.scalars(select(UnmatchedEvent.site_id)))
    assert kept == [ids.site_b]  # waiting for Shirvan's booking with that number
    # Held to Bojnurd: no choice to make, and Shirvan's button is not theirs.
    assert shown(await bojnurd.press("srpf")) == [bojnurd._(reporting.ASK)]
    assert shown(await bojnurd.press(f"srps:f:{ids.site_b}")) == [bojnurd._(NotFound.message)]
