"""Worker mode is invisible to others, a worker sees only their patients, deactivation bites."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from bot.handlers.common import OPEN_WORKER_MENU as OPEN_MENU
from bot.handlers.common import STALE, START_FIRST
from bot.health_worker import book, patients, register
from bot.health_worker.common import CANCELLED
from bot.views import MODALITY_NAMES
from clinic.models import AuditEntry, Booking, HealthWorker, Patient, Referral
from clinic.text import to_persian_digits
from tests.bot.flows import register as register_self
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.sms import deliver_sms
from tests.bot.test_health_worker_booking import book_chest_xray, register_patient, worker_chat
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

NOT_FOUND = "We could not find that record."
FORGED = ["wmenu", "wreg", "wfind", "wlist:0", "wpat:1", "wreq:1", "wmod:1:CR", "wexam:1:1",
          "wscr:1:0", "wins:salamat", "wsex:male", "wagree", "wbk:1", "wcx:1", "wcxok:1",
          "wdays:ref:1:0", "wday:ref:1:20261201", "whold:ref:1:1:202612011000",
          "wok:1"]  # fmt: skip


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _answer(harness: Harness, chat: Chat, data: str) -> tuple[str | None, int]:
    """What the bot answered to a forged press, and how many messages it sent or edited."""
    before = [(m.message_id, m.text) for m in chat.bot_messages()]
    query = chat.fire_forge(data, chat.last().message_id)
    await harness.settle()
    after = [(m.message_id, m.text) for m in chat.bot_messages()]
    answer = harness.sandbox.callback_answer(query) or {}
    return answer.get("text"), len(set(after) - set(before))


async def _state(harness: Harness) -> tuple[object, ...]:
    async with harness.env.uow() as uow:
        bookings = [(b.id, b.status) for b in await uow.session.scalars(select(Booking))]
        referrals = await uow.session.scalar(select(func.count(Referral.id)))
        people = await uow.session.scalar(select(func.count(Patient.id)))
    return tuple(bookings), referrals, people


async def test_worker_command_from_others_looks_like_any_unknown_command(
    harness: Harness,
) -> None:
    stranger = harness.user(8201)
    await stranger.command("worker")
    await stranger.command("nosuchcommand")
    assert stranger.texts()[-2] == stranger.texts()[-1] == stranger._(START_FIRST)
    patient = harness.user(8202)
    await register_self(patient, 70)
    await patient.command("worker")
    worker_reply = patient.last()
    await patient.command("nosuchcommand")
    assert (worker_reply.text, worker_reply.markup) == (patient.last_text(), patient.last().markup)


async def test_forged_worker_buttons_do_nothing_for_others(harness: Harness) -> None:
    patient = harness.user(8203)
    await register_self(patient, 71)
    before = await _state(harness)
    unknown = await _answer(harness, patient, "zzz:1")
    assert unknown == (patient._(STALE), 0)
    for data in FORGED:
        assert await _answer(harness, patient, data) == unknown, data
    assert await _state(harness) == before


async def test_a_worker_cannot_see_or_act_for_another_workers_patient(harness: Harness) -> None:
    owner = await worker_chat(harness, 8204, "مریم احمدی")
    await register_patient(owner, 72)
    await book_chest_xray(owner, day=2)
    async with harness.env.uow() as uow:
        booking = await uow.session.scalar(select(Booking))
        assert booking is not None
    other = await worker_chat(harness, 8205, "رضا کاظمی")
    await other.command("worker")
    await other.press_msgid(patients.MY_PATIENTS)
    assert other.last_text() == other._(patients.NO_PATIENTS)
    before = await _state(harness)
    pid, bid, rid = booking.patient_id, booking.id, booking.referral_id
    moment = f"{booking.starts_at:%Y%m%d}1000"
    for data in [
        f"wpat:{pid}", f"wreq:{pid}", f"wmod:{pid}:CR", f"wexam:{pid}:{booking.exam_id}",
        f"wbk:{bid}", f"wcx:{bid}", f"wcxok:{bid}", f"wok:{bid}", f"wdays:bk:{bid}:0",
        f"wdays:ref:{rid}:0", f"wday:ref:{rid}:{booking.starts_at:%Y%m%d}",
        f"whold:ref:{rid}:{booking.device_id}:{moment}",
    ]:  # fmt: skip
        await other.forge(data)
        assert other.last_text() == other._(NOT_FOUND), data
        assert "کریمی" not in other.last_text()
    await other.command("worker")
    await other.press_msgid(patients.FIND)
    await other.say(to_persian_digits(national_code(72)))
    assert other.last_text() == other._(NOT_FOUND)
    await other.command("worker")
    await other.press_msgid(patients.REGISTER)
    await other.say(national_code(72))
    assert other.last_text() == other._(register.ASK_MOBILE)  # as for anyone: nothing told
    await other.say("09131119999")
    assert other.last_text() == other._(register.CODE_SENT)
    [sms] = await deliver_sms(harness.env)
    assert sms.mobile == "09130000072"  # the patient's own phone, not the number typed
    assert await _state(harness) == before
    async with harness.env.uow() as uow:
        acted = await uow.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.actor_kind == "health_worker", AuditEntry.entity_id.in_([pid, bid, rid])
            )
        )
        worker_ids = set(
            await uow.session.scalars(
                select(AuditEntry.actor_id).where(AuditEntry.actor_kind == "health_worker")
            )
        )
    assert list(acted)  # the owner's actions are audited...
    assert len(worker_ids) == 2  # ...and the other worker's audit rows are only their link


async def _deactivate(harness: Harness) -> None:
    async with harness.env.uow() as uow:
        await uow.session.execute(update(HealthWorker).values(active=False))
        await uow.commit()


async def test_a_worker_deactivated_mid_registration_stops_at_once(harness: Harness) -> None:
    chat = await worker_chat(harness, 8206)
    await chat.command("worker")
    await chat.press_msgid(patients.REGISTER)
    await chat.say(national_code(73))
    assert chat.last_text() == chat._(register.ASK_MOBILE)
    await _deactivate(harness)
    await chat.say("09131234567")
    assert chat.last_text() == chat._(START_FIRST)
    assert await _answer(harness, chat, "wsex:male") == (chat._(STALE), 0)
    assert await _answer(harness, chat, "wagree") == (chat._(STALE), 0)
    await chat.command("worker")
    assert chat.last_text() == chat._(START_FIRST)
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Patient.id))) == 0


async def test_a_worker_deactivated_before_confirming_books_nothing(harness: Harness) -> None:
    chat = await worker_chat(harness, 8207)
    await register_patient(chat, 74)
    await chat.press_msgid(patients.NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CR"])
    await chat.press("رادیوگرافی قفسه سینه")
    await chat.say("123456789")
    await chat.press(chat.buttons()[0])  # the insurer
    await chat.press(chat.buttons()[0])  # a day
    await chat.press(chat.buttons()[0])  # a time: held
    assert chat.buttons()[0] == chat._(book.CONFIRM)
    await _deactivate(harness)
    assert await _answer(harness, chat, chat.button_data()[0]) == (chat._(STALE), 0)
    async with harness.env.uow() as uow:
        statuses = list(await uow.session.scalars(select(Booking.status)))
    assert statuses == ["held"]


async def test_cancel_ends_a_worker_step_and_stray_text_points_to_the_menu(
    harness: Harness,
) -> None:
    chat = await worker_chat(harness, 8208)
    await chat.command("worker")
    await chat.press_msgid(patients.REGISTER)
    await chat.command("cancel")
    assert chat.last_text() == chat._(CANCELLED)
    await chat.say(national_code(75))
    assert chat.last_text() == chat._(OPEN_MENU)
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Patient.id))) == 0
