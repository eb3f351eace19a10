"""A worker's request: screening answered with the patient, a photo, review, booking later."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.conversations import request as req
from bot.health_worker import book, link, patients, request
from bot.views import MODALITY_NAMES
from clinic.actors import Actor
from clinic.errors import WrongLinkCode
from clinic.link_codes import issue_link_code
from clinic.models import Booking, Insurer, OutboxMessage, Referral
from clinic.referrals import review_referral
from clinic.staff import add_staff
from tests.bot.harness import Harness, assert_calm
from tests.bot.sms import code_sent
from tests.bot.test_health_worker_booking import register_patient, worker_chat

if TYPE_CHECKING:
    from collections.abc import Iterator

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"
MR_KNEE = "ام‌آر‌آی زانو"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def test_screening_photo_review_then_booking_from_the_card(harness: Harness) -> None:
    chat = await worker_chat(harness, 8301)
    await register_patient(chat, 80)
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["MR"])
    await chat.press(MR_KNEE)
    asked = 0
    while chat.buttons()[:2] == [chat._(request.YES), chat._(request.NO)]:
        assert chat._(request.ASK_WITH_PATIENT) in chat.last_text()
        await chat.press_msgid(request.NO)
        asked += 1
    assert asked > 0
    assert chat.last_text().endswith(chat._(request.ASK_SOURCE))
    await chat.photo(b"\xff\xd8\xff" + b"\x00" * 2048)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    assert chat.last_text() == chat._(request.WAIT_REVIEW)
    async with harness.env.uow() as uow:
        referral = await uow.session.scalar(select(Referral))
        assert referral is not None
        assert (referral.source, referral.status, referral.submitted_by) == (
            "paper",
            "submitted",
            "health_worker",
        )
        received = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "referral_received")
        )
        assert received is not None and received.recipient_id == referral.patient_id
        await review_referral(uow, Actor.system(), referral.id, approve=True)
        await uow.commit()
    await chat.press_msgid(book.TO_PATIENT)
    booking_button = chat._(patients.BOOK_REFERRAL).format(exam=MR_KNEE)
    assert booking_button in chat.buttons()
    await chat.press(booking_button)
    assert chat.last_text() == chat._(book.CHOOSE_DAY)
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(book.CONFIRM)
    async with harness.env.uow() as uow:
        statuses = list(await uow.session.scalars(select(Booking.status)))
    assert statuses == ["confirmed"]


async def test_a_blocking_answer_stops_the_request(harness: Harness) -> None:
    chat = await worker_chat(harness, 8302)
    await register_patient(chat, 81)  # registered as male: no pregnancy question
    await chat.command("worker")
    await chat.press_msgid(patients.REGISTER)
    await chat.say("0499370899")
    await chat.say("09131112233")
    await chat.say(await code_sent(harness.env, "09131112233"))
    for answer in ("سارا", "نوری", "1375"):
        await chat.say(answer)
    await chat.press_msgid("Female")
    await chat.press_msgid("✅ The patient agrees")
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.buttons()[:2] == [chat._(request.YES), chat._(request.NO)]  # pregnancy
    await chat.press_msgid(request.YES)
    assert "۰۵۸" in chat.last_text() or "058" in chat.last_text()
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(Referral)) is None


async def test_link_as_staff(harness: Harness) -> None:
    async with harness.env.uow() as uow:
        member = await add_staff(
            uow, Actor.system(), full_name="نرگس پذیرش", roles=["reception"], mobile="09131234567"
        )
        code = await issue_link_code(uow, Actor.system(), "staff", member.id)
        await uow.commit()
    chat = harness.user(8303, phone="+989131234567")
    await chat.command("link", code)
    await chat.share_contact()
    assert chat.last_text() == chat._(link.LINKED_STAFF)
    await chat.command("staff")
    assert chat.buttons()  # the staff menu
    await chat.command("link", code)  # spent
    assert chat.last_text() == chat._(WrongLinkCode.message).format(left="۴")
