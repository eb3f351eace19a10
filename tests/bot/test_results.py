"""My results end to end: status in words, the pickup code when ready, never clinical content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.handlers import results as res
from bot.handlers.common import SORRY
from bot.keyboards import MY_RESULTS
from bot.views import when
from clinic.actors import Actor
from clinic.daylist import check_in
from clinic.models import Booking, Report, ReportStatus
from clinic.policy import Department
from clinic.reports import ReportEvent, report_event
from clinic.text import to_persian_digits
from tests.bot.flows import register
from tests.bot.test_appointments import registered_with_booking
from tests.bot.test_booking_flow import CT_BRAIN

if TYPE_CHECKING:
    from tests.bot.harness import Chat, Harness

# Words a report's content would carry; a results message must never show any of them.
CLINICAL = ("impression", "finding", "normal", "diagnosis", "lesion", "یافته", "تشخیص", "نرمال")


async def admitted(
    harness: Harness, chat: Chat, n: int, accession: str, exam: str = CT_BRAIN
) -> int:
    """Patient ``n`` books today and reception admits them with the HIS accession number."""
    booking = await registered_with_booking(harness, chat, n, day=0, exam=exam)
    async with harness.env.uow() as uow:
        await check_in(uow, Actor.system(), booking.id, accession_number=accession)
        await uow.commit()
    return booking.id


async def event(harness: Harness, accession: str, kind: ReportEvent) -> None:
    async with harness.env.uow() as uow:
        await report_event(
            uow,
            source="his",
            accession_number=accession,
            kind=kind,
            occurred_at=harness.env.clock.now(),
        )
        await uow.commit()


async def pickup_code(harness: Harness, accession: str) -> str:
    async with harness.env.uow() as uow:
        code = await uow.session.scalar(
            select(Report.pickup_code).where(Report.accession_number == accession)
        )
    assert code is not None
    return code


def status_line(chat: Chat, status: str) -> str:
    return chat._(res.STATUS[ReportStatus(status)])


async def test_no_results_yet_is_said_kindly(harness: Harness) -> None:
    chat = harness.user(4001)
    await register(chat, 40)
    await chat.tap(MY_RESULTS)
    assert chat.last_text() == chat._(res.NONE_YET)


async def test_a_report_from_admission_to_ready(harness: Harness) -> None:
    chat = harness.user(4002)
    await admitted(harness, chat, 41, "ACC-4002")
    await chat.tap(MY_RESULTS)
    assert status_line(chat, "pending") in chat.last_text()
    await event(harness, "ACC-4002", ReportEvent.IMAGES_READY)
    await chat.tap(MY_RESULTS)
    assert status_line(chat, "images_ready") in chat.last_text()
    code = await pickup_code(harness, "ACC-4002")
    assert to_persian_digits(code) not in chat.last_text()
    await event(harness, "ACC-4002", ReportEvent.FINAL)
    await chat.tap(MY_RESULTS)
    text = chat.last_text()
    assert status_line(chat, "final") in text
    assert to_persian_digits(code) in text
    assert Department().text("pickup", "fa") in text
    assert CT_BRAIN in text
    assert not any(word in text.lower() for word in CLINICAL)
    # The `res` deep link shows the same.
    await chat.command("start", "res")
    assert chat.last_text() == text


async def test_a_corrected_report_and_another_patient(harness: Harness) -> None:
    chat, other = harness.user(4003), harness.user(4004)
    await admitted(harness, chat, 42, "ACC-4003")
    await event(harness, "ACC-4003", ReportEvent.FINAL)
    await event(harness, "ACC-4003", ReportEvent.CORRECTED)
    await chat.tap(MY_RESULTS)
    assert status_line(chat, "corrected") in chat.last_text()
    await register(other, 43)
    await other.tap(MY_RESULTS)
    await other.command("start", "res")
    code = await pickup_code(harness, "ACC-4003")
    assert other.texts()[-1] == other.texts()[-3] == other._(res.NONE_YET)
    assert not any(to_persian_digits(code) in t or code in t for t in other.texts())
    assert other._(SORRY) not in other.texts()


async def test_results_in_english(harness: Harness) -> None:
    chat = harness.user(4005, lang="en")
    booking_id = await admitted(harness, chat, 44, "ACC-4005", exam="CT brain without contrast")
    await event(harness, "ACC-4005", ReportEvent.FINAL)
    await chat.tap(MY_RESULTS)
    code = await pickup_code(harness, "ACC-4005")
    async with harness.env.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
    assert booking is not None
    day, _ = when(booking.starts_at, "en")
    assert chat.last_text() == (
        "Your results:\n\n"
        f"CT brain without contrast\nDate: {day}\nStatus: Report ready to collect\n"
        f"Pickup code: {code}\nWhere and when: {Department().text('pickup', 'en')}\n"
        "Please bring your national card."
    )
