"""How each booking was made, and the Ministry's e-booking share counted from it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot
from clinic.booking_share import booking_share, recent
from clinic.closures import ClosureRequest, close
from clinic.jalali import TEHRAN
from clinic.models import Booking, BookingChannel, Exam
from tests.factories import ADMIN, RECEPTION, add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

SUNDAY, MONDAY, TUESDAY = date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _exam(uow: UnitOfWork, code: str) -> Exam:
    return (await uow.session.scalars(select(Exam).where(Exam.code == code))).one()


async def book(
    env: ClinicEnv,
    n: int,
    exam: str,
    starts_at: datetime,
    actor: Actor | None = None,
    channel: BookingChannel | None = None,
    *,
    confirm: bool = True,
) -> Booking:
    """Patient ``n`` (or ``actor`` for them) books ``exam`` at ``starts_at``."""
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        found = await _exam(uow, exam)
        referral = await approved_referral(uow, patient, found)
        who = actor or Actor.patient(patient)
        device = 1 if exam.startswith("CT") else 2
        held = await hold_slot(uow, who, referral, device, starts_at, channel=channel)
        if confirm:
            await confirm_booking(uow, who, held.id)
        await uow.commit()
        return held


async def test_each_booking_records_how_it_was_made(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await build_department(uow)
        await uow.commit()
    chat = await book(env, 1, "CT-BRAIN", at(MONDAY, 9))
    desk = await book(env, 2, "CT-BRAIN", at(MONDAY, 9, 15), RECEPTION)
    phone = await book(env, 3, "CT-BRAIN", at(MONDAY, 9, 30), RECEPTION, BookingChannel.PHONE)
    assert (chat.channel, desk.channel, phone.channel) == ("chat", "desk", "phone")
    async with env.uow() as uow:
        request = ClosureRequest(1, at(MONDAY, 9, 15), at(MONDAY, 9, 30), "تعمیر دستگاه")
        result = await close(uow, ADMIN, request)
        await uow.commit()
        (moved_id,) = result.moved_ids
        moved = await uow.session.get_one(Booking, moved_id)
    assert moved.channel == BookingChannel.DESK  # the department moved it; reception booked it


async def test_the_share_counts_given_appointments_by_day_modality_and_channel(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        await build_department(uow, ct_places=3)
        await uow.commit()
    # Monday CT: 2 in chat, 1 at the desk, 1 on the phone; a hold and a cancelled one do not
    # count. Tuesday MRI: 1 in chat. By hand: 3 of 5 electronic (60%); Monday CT 2 of 4.
    await book(env, 1, "CT-BRAIN", at(MONDAY, 9))
    await book(env, 2, "CT-BRAIN", at(MONDAY, 9))
    await book(env, 3, "CT-BRAIN", at(MONDAY, 10), RECEPTION)
    await book(env, 4, "CT-BRAIN", at(MONDAY, 10), RECEPTION, BookingChannel.PHONE)
    await book(env, 5, "CT-BRAIN", at(MONDAY, 11), confirm=False)
    gone = await book(env, 6, "CT-BRAIN", at(MONDAY, 11))
    async with env.uow() as uow:
        await cancel_booking(uow, Actor.patient(gone.patient_id), gone.id)
        await uow.commit()
    await book(env, 7, "MRI-KNEE", at(TUESDAY, 8))
    await book(env, 8, "CT-BRAIN", at(SUNDAY, 12), RECEPTION)  # today, before the report range
    async with env.uow() as uow:
        report = await booking_share(uow, MONDAY, TUESDAY)
        month = await recent(uow, 30)
    cells = {(r.day, r.modality): dict(r.by_channel) for r in report.rows}
    assert cells == {
        (MONDAY, "CT"): {"chat": 2, "desk": 1, "phone": 1},
        (TUESDAY, "MR"): {"chat": 1},
    }
    monday_ct = report.rows[0]
    assert (monday_ct.total, monday_ct.electronic, monday_ct.share) == (4, 2, 0.5)
    assert [(r.modality, r.total, r.electronic) for r in report.by_modality] == [
        ("CT", 4, 2), ("MR", 1, 1),
    ]  # fmt: skip
    assert (report.total.total, report.total.electronic, report.total.share) == (5, 3, 0.6)
    assert month.total.by_channel == {"desk": 1}  # the last 30 days end today, Sunday
    async with env.uow() as uow:
        only_tuesday = await booking_share(uow, TUESDAY, TUESDAY)
    assert only_tuesday.total.by_channel == {"chat": 1}
