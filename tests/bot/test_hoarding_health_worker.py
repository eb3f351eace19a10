"""No hoarding in health-worker mode: the caps speak of "this patient", the card shows requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.conversations import request as req
from bot.health_worker import book, patients, request
from bot.health_worker.common import TO_MENU
from bot.views import MODALITY_NAMES
from clinic.errors import OpenReferralForExam, TrackingCodeInUse
from clinic.models import Booking, Insurer, Referral
from clinic.text import to_persian_digits
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.test_health_worker_booking import CR_CHEST, register_patient, worker_chat
from tests.factories import tracking_code

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _chest_request(chat: Chat, code: str) -> None:
    """From the patient's card: a chest X-ray, then the tracking code (Persian digits)."""
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CR"])
    await chat.press(CR_CHEST)
    await chat.say(to_persian_digits(code))
    if chat.last_text() == chat._(request.ASK_INSURER):
        await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])


async def _book_first(chat: Chat) -> None:
    await chat.press(chat.buttons()[2])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(book.CONFIRM)
    await chat.press_msgid(book.TO_PATIENT)


async def test_a_second_request_for_the_exam_is_refused_for_the_patient(
    harness: Harness,
) -> None:
    chat = await worker_chat(harness, 8201)
    await register_patient(chat, 80)
    await _chest_request(chat, tracking_code())
    await _book_first(chat)
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CR"])
    await chat.press(CR_CHEST)
    refusal = OpenReferralForExam(for_patient=False).render(chat._, persian_digits=True)
    assert chat.last_text() == refusal
    assert refusal.startswith("این بیمار")  # "this patient", not "you"
    assert chat.buttons() == [chat._(patients.TO_PATIENT), chat._(TO_MENU)]
    async with harness.env.uow() as uow:
        assert len(list(await uow.session.scalars(select(Referral)))) == 1


async def test_cancel_the_booking_then_the_request_from_the_card(harness: Harness) -> None:
    chat = await worker_chat(harness, 8202)
    await register_patient(chat, 81)
    await _chest_request(chat, tracking_code())
    await _book_first(chat)
    await chat.press(f"📅 {CR_CHEST}")
    await chat.press_msgid(patients.CANCEL)
    await chat.press_msgid(patients.YES_CANCEL)
    await chat.press_msgid(patients.TO_PATIENT)
    # The request is still open: the card lists it, to book again or to cancel.
    assert chat._(patients.NO_TIME) in chat.last_text()
    assert chat._(patients.BOOK_REFERRAL).format(exam=CR_CHEST) in chat.buttons()
    await chat.press(chat._(patients.CANCEL_REQUEST).format(exam=CR_CHEST))
    assert chat.last_text() == chat._(request.SURE_WITHDRAW).format(
        exam=CR_CHEST, name="زهرا کریمی"
    )
    await chat.press_msgid(request.YES_WITHDRAW)
    assert chat.last_text() == chat._(request.WITHDRAWN)
    await chat.press_msgid(patients.TO_PATIENT)
    assert chat._(patients.NO_TIME) not in chat.last_text()
    await _chest_request(chat, tracking_code())  # so soon after the last: staff review it
    assert chat.last_text() == chat._(request.WAIT_REVIEW)
    async with harness.env.uow() as uow:
        rows = list(await uow.session.scalars(select(Referral).order_by(Referral.id)))
        statuses = [b.status for b in await uow.session.scalars(select(Booking))]
    assert [r.status for r in rows] == ["withdrawn", "submitted"]
    assert statuses == ["cancelled"]


async def test_a_tracking_code_in_use_is_refused_and_the_answers_kept(harness: Harness) -> None:
    chat = await worker_chat(harness, 8203)
    code = tracking_code()
    await register_patient(chat, 82, "زهرا")
    await _chest_request(chat, code)
    await register_patient(chat, 83, "حسن")
    await _chest_request(chat, code)
    refusal = TrackingCodeInUse(for_patient=False).render(chat._, persian_digits=True)
    assert chat.last_text() == f"{refusal}\n\n{chat._(request.ASK_SOURCE)}"
    await chat.say(to_persian_digits(tracking_code()))  # no insurer question again
    assert chat.last_text() == chat._(book.CHOOSE_DAY)
    async with harness.env.uow() as uow:
        rows = list(await uow.session.scalars(select(Referral).order_by(Referral.id)))
    assert [r.insurer for r in rows] == ["salamat", "salamat"]
