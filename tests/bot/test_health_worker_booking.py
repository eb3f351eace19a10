"""A health-house worker links, registers patients without a smartphone and books for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.conversations import request as req
from bot.health_worker import book, link, patients, register, request
from bot.views import MODALITY_NAMES
from clinic.actors import Actor
from clinic.errors import WrongLinkCode
from clinic.link_codes import CODE_FORMAT, issue_link_code
from clinic.models import AuditEntry, Booking, Insurer, OutboxMessage, Patient
from clinic.staff import add_health_house, add_health_worker
from clinic.text import to_persian_digits
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.sms import code_sent
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from collections.abc import Iterator

CR_CHEST = "رادیوگرافی قفسه سینه"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


WORKER_MOBILE = "09121112233"


async def new_worker(harness: Harness, name: str = "مریم احمدی") -> tuple[int, str]:
    """A health house and a worker in it; (worker id, a one-time link code)."""
    async with harness.env.uow() as uow:
        house = await add_health_house(uow, Actor.system(), name=f"خانه بهداشت {name}")
        worker = await add_health_worker(
            uow, Actor.system(), house_id=house.id, full_name=name, mobile=WORKER_MOBILE
        )
        code = await issue_link_code(uow, Actor.system(), "health_worker", worker.id)
        await uow.commit()
    return worker.id, code


async def worker_chat(harness: Harness, user_id: int, name: str = "مریم احمدی") -> Chat:
    """A linked worker's chat: the code typed in Persian digits, then their own number shared."""
    _, code = await new_worker(harness, name)
    chat = harness.user(user_id, phone="98" + WORKER_MOBILE[1:])
    await chat.command("link", to_persian_digits(code))
    assert chat.last_text() == chat._(link.ASK_PHONE)
    await chat.share_contact()
    assert chat.last_text() == chat._(link.LINKED_WORKER)
    return chat


async def register_patient(chat: Chat, n: int, first: str = "زهرا") -> None:
    """Register patient ``n`` from the worker menu (Persian digits typed): the one-time code
    the patient's phone got (by the SMS gateway sandbox) is typed after the mobile."""
    await chat.command("worker")
    await chat.press_msgid(patients.REGISTER)
    await chat.say(to_persian_digits(national_code(n)))
    await chat.say(to_persian_digits(f"0913{n:07d}"))
    assert chat.last_text() == chat._(register.CODE_SENT)
    await chat.say(to_persian_digits(await code_sent(chat.harness.env, f"0913{n:07d}")))
    for answer in (first, "کریمی", "۱۳۴۰"):
        await chat.say(answer)
    await chat.press_msgid(register.MALE)
    assert chat.buttons()[0] == chat._(register.AGREES)
    await chat.press_msgid(register.AGREES)
    assert chat.last_text().startswith(chat._(register.REGISTERED).format(name=f"{first} کریمی"))


async def book_chest_xray(chat: Chat, day: int = 0) -> None:
    """From the patient's card: a chest X-ray with a tracking code, the first free time."""
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CR"])
    await chat.press(CR_CHEST)
    assert chat.last_text() == chat._(request.ASK_SOURCE)
    await chat.say(to_persian_digits(tracking_code()))  # each referral its own code
    if chat.last_text() == chat._(request.ASK_INSURER):
        await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])
    assert chat.last_text() == chat._(book.CHOOSE_DAY)
    await chat.press(chat.buttons()[day])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(book.CONFIRM)


async def test_a_worker_books_for_three_patients(harness: Harness) -> None:
    chat = await worker_chat(harness, 8101)
    for n, first in ((60, "زهرا"), (61, "حسن"), (62, "فاطمه")):
        await register_patient(chat, n, first)
        await book_chest_xray(chat)
        assert chat.last_text().startswith(
            "✅ " + chat._(book.BOOKED).format(name=f"{first} کریمی")
        )
    async with harness.env.uow() as uow:
        people = list(await uow.session.scalars(select(Patient).order_by(Patient.id)))
        bookings = list(await uow.session.scalars(select(Booking).order_by(Booking.id)))
        notices = list(await uow.session.scalars(select(OutboxMessage)))
        audit = list(await uow.session.scalars(select(AuditEntry)))
    assert [p.registered_by for p in people] == ["health_worker"] * 3
    # The code the patient read out is the evidence they were there, kept with the consent.
    assert all(p.consent_at is not None and p.consent_via == "health_worker+sms" for p in people)
    assert [p.mobile for p in people] == [f"0913{n:07d}" for n in (60, 61, 62)]
    assert [(b.status, b.patient_id) for b in bookings] == [("confirmed", p.id) for p in people]
    for b in bookings:
        confirmed = [n for n in notices if n.kind == "booking_confirmed" and n.booking_id == b.id]
        assert [(n.recipient_kind, n.recipient_id) for n in confirmed] == [
            ("patient", b.patient_id)
        ]
        assert confirmed[0].status == "pending"
    by_worker = {(a.action, a.entity_id) for a in audit if a.actor_kind == "health_worker"}
    for p, b in zip(people, bookings, strict=True):
        assert ("patient.register", p.id) in by_worker
        assert {("booking.hold", b.id), ("booking.confirm", b.id)} <= by_worker
        assert ("referral.submit", b.referral_id) in by_worker
    # The list shows each patient with their next booking.
    await chat.command("worker")
    await chat.press_msgid(patients.MY_PATIENTS)
    listing = chat.last_text()
    assert all(name in listing for name in ("زهرا کریمی", "حسن کریمی", "فاطمه کریمی"))
    assert chat._(patients.NO_BOOKING) not in listing


async def test_a_worker_finds_cancels_and_moves_a_booking(harness: Harness) -> None:
    chat = await worker_chat(harness, 8102)
    await register_patient(chat, 63)
    await book_chest_xray(chat, day=2)  # later than the cancel notice
    await chat.command("worker")
    await chat.press_msgid(patients.FIND)
    await chat.say(to_persian_digits(national_code(63)))
    assert chat.last_text().startswith("زهرا کریمی")
    await chat.press(chat.buttons()[0])  # the booking
    await chat.press_msgid(patients.RESCHEDULE)
    await chat.press(chat.buttons()[-3])  # a later day
    await chat.press(chat.buttons()[0])
    assert chat.buttons()[0] == chat._(book.CONFIRM), chat.last_text()
    await chat.press_msgid(book.CONFIRM)
    async with harness.env.uow() as uow:
        statuses = [
            b.status for b in await uow.session.scalars(select(Booking).order_by(Booking.id))
        ]
    assert statuses == ["rescheduled", "confirmed"]
    await chat.press_msgid(book.TO_PATIENT)
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(patients.CANCEL)
    await chat.press_msgid(patients.YES_CANCEL)
    assert chat.last_text() == chat._(patients.CANCELLED_FOR)
    async with harness.env.uow() as uow:
        statuses = [
            b.status for b in await uow.session.scalars(select(Booking).order_by(Booking.id))
        ]
        audit = list(await uow.session.scalars(select(AuditEntry)))
    assert statuses == ["rescheduled", "cancelled"]
    assert any(a.action == "booking.cancel" and a.actor_kind == "health_worker" for a in audit)
    # The worker's looks at the patient's card and booking are audited, naming how.
    reads = [a.details["via"] for a in audit if a.action == "patient.read"]
    assert reads.count("card") >= 1 and reads.count("booking") >= 2
    assert all(a.actor_kind == "health_worker" for a in audit if a.action == "patient.read")


async def test_link_codes(harness: Harness) -> None:
    chat = harness.user(8103)
    await chat.command("link", "1234567890")
    assert chat.last_text() == chat._(WrongLinkCode.message).format(left="۴")
    await chat.command("link", "12345678")  # an old 8-digit code: not a try
    assert chat.last_text() == chat._(CODE_FORMAT)
    await chat.command("link")
    assert chat.last_text() == chat._(link.ASK_CODE)
