"""From the main menu to a confirmed booking, counted as a patient would tap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.models import Booking, Insurer, OutboxMessage, Referral
from tests.bot.flows import book_first_free, register, request_exam

if TYPE_CHECKING:
    from tests.bot.harness import Harness

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"


async def test_a_returning_patient_books_in_at_most_eight_actions(harness: Harness) -> None:
    chat = harness.user(2001)
    await register(chat, 0)
    # First request: the insurer is asked once, then remembered.
    await request_exam(chat, "CT", CT_BRAIN)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await book_first_free(chat)
    chat.actions = 0
    await request_exam(chat, "CR", "رادیوگرافی قفسه سینه")
    assert chat.texts()[-1] == chat._(booking.CHOOSE_DAY)  # no insurer question this time
    await book_first_free(chat)
    assert chat.actions <= 8
    card = chat.bot_messages()[-3].text or ""  # then the .ics file, then "anything else?"
    async with harness.env.uow() as uow:
        bookings = list(await uow.session.scalars(select(Booking).order_by(Booking.id)))
        notices = list(await uow.session.scalars(select(OutboxMessage)))
    assert [b.status for b in bookings] == ["confirmed", "confirmed"]
    assert bookings[1].code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in card
    assert "آذر" in card  # Jalali month names
    assert any(n.kind == "booking_confirmed" and n.booking_id == bookings[1].id for n in notices)


async def test_an_exam_that_needs_review_waits_for_staff(harness: Harness) -> None:
    chat = harness.user(2002)
    await register(chat, 1)
    await request_exam(chat, "MR", "ام‌آر‌آی زانو")
    # MRI safety questions come first; answer "no" to each.
    while chat.buttons() == [chat._(req.YES), chat._(req.NO)]:
        await chat.press_msgid(req.NO)
    await chat.say("5566778899")
    await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])
    assert chat.last_text() == chat._(req.WAIT_REVIEW)
    async with harness.env.uow() as uow:
        referral = await uow.session.scalar(select(Referral))
    assert referral is not None
    assert referral.status == "submitted"


async def test_a_blocking_safety_answer_stops_kindly(harness: Harness) -> None:
    chat = harness.user(2003)
    await register(chat, 2, sex="female", year="1375")
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.buttons() == [chat._(req.YES), chat._(req.NO)]  # pregnancy
    await chat.press_msgid(req.YES)
    assert "058" in chat.last_text() or "۰۵۸" in chat.last_text()
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(Referral)) is None


async def test_a_photo_of_the_paper_prescription_is_stored(harness: Harness) -> None:
    chat = harness.user(2004)
    await register(chat, 3)
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CR"])
    await chat.press("رادیوگرافی قفسه سینه")
    await chat.photo(b"\xff\xd8\xff" + b"\x00" * 2048)
    await chat.press_msgid(req.INSURERS[Insurer.NONE])
    assert chat.last_text() == chat._(booking.CHOOSE_DAY)
    async with harness.env.uow() as uow:
        referral = await uow.session.scalar(select(Referral))
    assert referral is not None
    assert (referral.source, referral.file_type) == ("paper", "image/jpeg")
    assert (harness.files / str(referral.file_ref)).read_bytes().startswith(b"\xff\xd8\xff")
