"""Reception through the bot: reviewing referrals, the day list with admission and no-shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.staff import daylist, menu, reception
from bot.views import STATUS
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.jalali import TEHRAN, tehran_datetime
from clinic.models import (
    AuditEntry,
    Booking,
    Device,
    Exam,
    OutboxMessage,
    Referral,
    Report,
    SmsQuestion,
)
from clinic.referrals import PrescriptionFile, ReferralRequest, screening_for, submit_referral
from clinic.staff import add_staff
from clinic.text import to_persian_digits
from tests.bot.harness import Chat, Harness, assert_calm
from tests.factories import add_patient, approved_referral, national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

TODAY = date(2026, 11, 29)
TUESDAY = date(2026, 12, 1)  # 1405/09/10


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def staff_chat(harness: Harness, user_id: int, *roles: str) -> tuple[Chat, int]:
    """A chat account linked to a new staff member with ``roles``; returns it and the id."""
    async with harness.env.uow() as uow:
        member = await add_staff(
            uow, Actor.system(), full_name="کارمند", roles=roles, telegram_user_id=user_id
        )
        await uow.commit()
    return harness.user(user_id), member.id


async def ids(harness: Harness, device_code: str, exam_code: str) -> tuple[int, Exam]:
    """A device id and an exam by their codes."""
    async with harness.env.uow() as uow:
        device = await uow.session.scalar(select(Device.id).where(Device.code == device_code))
        exam = await uow.session.scalar(select(Exam).where(Exam.code == exam_code))
    assert device is not None and exam is not None
    return device, exam


async def book_many(
    harness: Harness, device_code: str, day: date, count: int, *, first_patient: int = 100,
    start: time = time(7, 30), step_minutes: int = 10, per_slot: int = 2,
) -> list[int]:  # fmt: skip
    """``count`` confirmed chest X-ray bookings on one device and day, through the use cases."""
    device_id, exam = await ids(harness, device_code, "XR-CHEST")
    booked = []
    async with harness.env.uow() as uow:
        for i in range(count):
            pid = await add_patient(uow, first_patient + i)
            referral = await approved_referral(uow, pid, exam)
            starts = tehran_datetime(day, start) + timedelta(
                minutes=step_minutes * (i // per_slot)
            )
            held = await hold_slot(uow, Actor.patient(pid), referral, device_id, starts)
            booked.append((await confirm_booking(uow, Actor.patient(pid), held.id)).id)
        await uow.commit()
    return booked


async def submitted_referral(harness: Harness, n: int, *, file: bytes | None = None) -> int:
    """A referral for an MRI (reviewed by staff) by e-prescription, or a paper one."""
    async with harness.env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "MRI-BRAIN"))
        assert exam is not None
        pid = await add_patient(uow, n)
        questions = await screening_for(uow, exam.id, pid)
        answers = {q.code: q.blocking_answer is False for q in questions}
        stored = None
        if file is not None:
            ref = await harness.services().files.save(file, "application/pdf", uow.clock.now())
            stored = PrescriptionFile(ref, "application/pdf", len(file))
        request = ReferralRequest(
            pid, exam.id, "tamin", answers,
            tracking_code=None if file else "987654321", file=stored,
        )  # fmt: skip
        referral = await submit_referral(uow, Actor.patient(pid), request)
        await uow.commit()
    return referral.id


async def outbox(harness: Harness, kind: str) -> list[OutboxMessage]:
    async with harness.env.uow() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return list(rows)


async def test_a_rejected_referral_reaches_the_patient_with_its_reason(harness: Harness) -> None:
    listed = await submitted_referral(harness, 1)
    typed = await submitted_referral(harness, 2, file=b"%PDF-1.4 a paper prescription")
    chat, _ = await staff_chat(harness, 7001, "reception")
    await chat.command("staff")
    assert chat.last_text() == chat._(menu.MENU)
    await chat.press_msgid(menu.ITEMS[0][1])
    assert chat.last_text() == chat._(reception.REFERRALS)
    await chat.press(chat.buttons()[0])
    card = chat.last_text()
    assert to_persian_digits("987654321") in card
    await chat.press_msgid(reception.REJECT)
    await chat.press_msgid(reception.REASONS[0])
    assert chat.last_text() == chat._(reception.REJECTED).format(id=to_persian_digits(str(listed)))
    [notice] = await outbox(harness, "referral_rejected")
    assert notice.params["reason"] == chat._(reception.REASONS[0])
    assert notice.params["referral_id"] == listed

    # The paper one: the file is sent to reception, the reason is typed.
    await chat.press_msgid(reception.TO_REFERRALS)
    await chat.press(chat.buttons()[0])
    documents = [m for m in chat.bot_messages() if "document" in m.data]
    assert len(documents) == 1
    assert chat._(reception.PAPER) in chat.last_text()
    await chat.press_msgid(reception.REJECT)
    await chat.press_msgid(reception.TYPE_REASON)
    assert chat.last_text() == chat._(reception.ASK_REASON)
    await chat.say("تاریخ نسخه خوانا نیست")
    notices = await outbox(harness, "referral_rejected")
    assert {n.params["referral_id"]: n.params["reason"] for n in notices}[typed] == (
        "تاریخ نسخه خوانا نیست"
    )
    async with harness.env.uow() as uow:
        statuses = set(await uow.session.scalars(select(Referral.status)))
        audited = list(await uow.session.scalars(select(AuditEntry.action)))
    assert statuses == {"rejected"}
    assert audited.count("referral.rejected") == 2
    # Each card showed the patient; the paper one also its file.
    assert (audited.count("patient.read"), audited.count("referral_file.read")) == (2, 1)


async def test_reception_admits_with_an_accession_number_and_marks_a_no_show(
    harness: Harness,
) -> None:
    first, second = await book_many(harness, "XR-1", TODAY, 2, start=time(10, 30), per_slot=1)
    chat, staff_id = await staff_chat(harness, 7002, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[1][1])
    await chat.press("رادیوگرافی اتاق ۱")
    rows = chat.buttons()
    assert len(rows) == 3 and "۱۰:۳۰" in rows[0] and "۱۰:۴۰" in rows[1]
    await chat.press(rows[0])
    await chat.press_msgid(daylist.WITH_ACCESSION)
    assert chat.last_text() == chat._(daylist.ASK_ACCESSION)
    await chat.say("۴۵۶۷۸۹")
    assert chat._(STATUS["checked_in"]) in chat.last_text()

    harness.env.clock.set(datetime.combine(TODAY, time(11, 0), tzinfo=TEHRAN))
    await chat.press_msgid(daylist.TO_LIST)
    await chat.press(chat.buttons()[1])
    await chat.press_msgid(daylist.NO_SHOW)
    assert chat._(STATUS["no_show"]) in chat.last_text()
    async with harness.env.uow() as uow:
        admitted = await uow.session.get(Booking, first)
        missed = await uow.session.get(Booking, second)
        report = await uow.session.scalar(select(Report).where(Report.booking_id == first))
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_id == staff_id)
            )
        )
    assert admitted is not None and admitted.status == "checked_in"
    assert missed is not None and missed.status == "no_show"
    assert report is not None and report.accession_number == "456789"
    assert {"booking.check_in", "report.accession", "booking.no_show"} <= set(actions)
    assert "patient.read" in actions  # opening the appointment's card showed the patient
    assert "day_list.read" in actions  # so did the day list, with every name on it


async def test_find_a_booking_by_its_code_or_the_national_code(harness: Harness) -> None:
    [booking_id] = await book_many(harness, "XR-2", TUESDAY, 1, first_patient=5)
    async with harness.env.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
    assert booking is not None
    chat, _ = await staff_chat(harness, 7003, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[2][1])
    await chat.say(to_persian_digits(booking.code))
    assert to_persian_digits(booking.code) in chat.last_text()
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[2][1])
    await chat.say(national_code(5))
    assert to_persian_digits(booking.code) in chat.last_text()
    assert chat._(daylist.CANCEL) in chat.buttons()
    async with harness.env.uow() as uow:
        reads = [
            e.details
            for e in await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "patient.read")
            )
        ]
    # The lookup by national code and each card it opened are audited.
    assert {"via": "find", "shown": 1} in reads
    assert sum(r.get("via") == "booking" for r in reads) == 2


async def test_the_day_list_shows_who_said_by_sms_they_are_coming(harness: Harness) -> None:
    first, second = await book_many(harness, "XR-1", TODAY, 2, start=time(10, 30), per_slot=1)
    async with harness.env.uow() as uow:
        booking = await uow.session.get(Booking, first)
        assert booking is not None
        uow.session.add(
            SmsQuestion(
                mobile="09120000100", patient_id=booking.patient_id, booking_id=first,
                kind="reminder", asked_at=uow.clock.now(), answered_at=uow.clock.now(),
                answer="confirmed",
            )
        )  # fmt: skip
        await uow.commit()
    chat, _ = await staff_chat(harness, 7009, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[1][1])
    await chat.press("رادیوگرافی اتاق ۱")
    rows = chat.buttons()
    coming = chat._(daylist.COMING)
    assert coming in rows[0] and coming not in rows[1]
    assert second > first
