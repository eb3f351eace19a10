"""The outbox worker delivers by chat, falls back to SMS, re-checks, retries, and loses nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot
from clinic.jalali import TEHRAN
from clinic.models import Booking, BookingChannel, Device, OutboxMessage, Patient, Platform
from clinic.patients import link_chat_account
from notifier.delivery import DeliveryRules
from tests.factories import add_patient, approved_referral, build_department
from tests.ical import moment, parse_valid

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.notifier.conftest import World

MONDAY = date(2026, 11, 30)


async def _booked(uow: UnitOfWork, n: int = 0, *, chat_user: int | None = None) -> tuple[int, int]:
    dept = await build_department(uow)
    patient = await add_patient(uow, n)
    if chat_user is not None:
        await link_chat_account(uow, patient, Platform.TELEGRAM, chat_user, chat_user)
    referral = await approved_referral(uow, patient, dept.ct_brain)
    me = Actor.patient(patient)
    start = datetime.combine(MONDAY, time(9), tzinfo=TEHRAN)
    booking = await confirm_booking(
        uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
    )
    return patient, booking.id


async def _rows(world: World) -> list[OutboxMessage]:
    async with world.env.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_confirmation_goes_by_chat_in_persian(world: World) -> None:
    world.chat.create_user(5001, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5001)
        await uow.commit()
    await world.drain()
    sent = [m for m in world.chat.messages_to(5001) if m.from_bot]
    assert len(sent) == 1
    text = sent[0].text or ""
    assert "دوشنبه ۹ آذر ۱۴۰۵" in text
    assert "۰۹:۰۰" in text
    assert sent[0].buttons  # change the time
    confirmation = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert (confirmation.status, confirmation.channel) == ("sent", "telegram")
    assert world.sms.messages() == []


async def test_a_patient_who_blocked_the_bot_gets_one_sms(world: World) -> None:
    world.chat.create_user(5002, "بیمار")
    world.chat.block(5002)
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5002)
        await uow.commit()
    await world.drain()
    inbox = world.sms.inbox("09120000000")
    assert len(inbox) == 1
    assert "۰۹:۰۰" in inbox[0].text
    assert "0499370899" not in inbox[0].text and "سی‌تی" not in inbox[0].text  # no clinical content
    confirmation = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert (confirmation.status, confirmation.channel) == ("sent", "sms")


async def test_reminders_of_a_cancelled_booking_send_nothing(world: World) -> None:
    world.chat.create_user(5003, "بیمار")
    async with world.env.uow() as uow:
        patient, booking = await _booked(uow, chat_user=5003)
        await uow.commit()
    await world.drain()
    async with world.env.uow() as uow:
        await cancel_booking(uow, Actor.patient(patient), booking)
        await uow.commit()
    world.env.clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=TEHRAN))
    await world.drain()
    rows = await _rows(world)
    assert {r.status for r in rows if r.kind == "reminder"} == {"cancelled"}
    assert len([m for m in world.chat.messages_to(5003) if m.from_bot]) == 1


async def test_sms_waits_for_the_morning_unless_urgent(world: World) -> None:
    world.env.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=TEHRAN))  # Saturday night
    async with world.env.uow() as uow:
        await _booked(uow)  # no chat account: SMS only
        await uow.commit()
    await world.drain()
    confirmation = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert confirmation.status == "pending"
    assert confirmation.next_attempt_at == datetime(2026, 11, 29, 7, 0, tzinfo=TEHRAN)
    assert world.sms.messages() == []
    world.env.clock.set(datetime(2026, 11, 29, 7, 0, tzinfo=TEHRAN))
    await world.drain()
    assert len(world.sms.inbox("09120000000")) == 1


async def test_transient_sms_failures_are_retried_with_backoff(world: World) -> None:
    world.sms.fail_next("kavenegar", 2, status=502)
    async with world.env.uow() as uow:
        await _booked(uow)
        await uow.commit()
    await world.drain()
    row = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > world.env.clock.now()
    for _ in range(3):
        world.env.clock.advance(minutes=5)
        await world.drain()
    row = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert (row.status, row.channel) == ("sent", "sms")
    assert len(world.sms.inbox("09120000000")) == 1


async def test_a_broadcast_goes_to_patients_and_health_workers(world: World) -> None:
    from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
    from clinic.models import Role
    from clinic.staff import add_health_house, add_health_worker
    from tests.factories import ADMIN

    world.chat.create_user(5010, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5010)
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم", mobile="09150000009"
        )
        staff = Actor.staff(1, [Role.BROADCASTER])
        for audience in (Audience("future"), Audience("health_workers")):
            draft, _count = await draft_broadcast(
                uow, staff, "بخش فردا ساعت ۱۰ باز می‌شود.", audience
            )
            await send_broadcast(uow, staff, draft.id)
        await uow.commit()
    await world.drain()
    chat_texts = [m.text or "" for m in world.chat.messages_to(5010) if m.from_bot]
    assert any("ساعت ۱۰ باز می‌شود" in t for t in chat_texts)
    worker_sms = world.sms.inbox("09150000009")
    assert len(worker_sms) == 1
    assert "ساعت ۱۰ باز می‌شود" in worker_sms[0].text
    assert {r.status for r in await _rows(world) if r.kind == "broadcast"} == {"sent"}


async def test_the_department_sets_its_own_quiet_hours_and_give_up_horizon(world: World) -> None:
    world.worker.channels.rules = DeliveryRules(
        quiet_from=time(21, 0), quiet_until=time(8, 30), give_up_after=timedelta(hours=2)
    )
    world.env.clock.set(datetime(2026, 11, 29, 7, 45, tzinfo=TEHRAN))  # quiet until 08:30
    async with world.env.uow() as uow:
        await _booked(uow)  # no chat account: SMS only
        await uow.commit()
    await world.drain()
    row = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert row.next_attempt_at == datetime(2026, 11, 29, 8, 30, tzinfo=TEHRAN)
    world.sms.fail_next("kavenegar", 100, status=502)  # the gateway keeps failing
    for _ in range(8):  # to 10:25: retried from 08:30, given up two hours after queueing
        world.env.clock.advance(minutes=20)
        await world.drain()
    row = next(r for r in await _rows(world) if r.kind == "booking_confirmed")
    assert row.status == "failed"
    assert row.last_error is not None and row.last_error.startswith("gave up")
    assert world.sms.inbox("09120000000") == []


async def test_an_english_speaking_patient_is_told_in_english_with_the_room_in_english(
    world: World,
) -> None:
    world.chat.create_user(5031, "Sara")
    async with world.env.uow() as uow:
        patient_id, _ = await _booked(uow, chat_user=5031)
        patient = await uow.session.get(Patient, patient_id)
        device = await uow.session.scalar(select(Device).where(Device.code == "CT-1"))
        assert patient is not None and device is not None
        patient.language = "en"
        device.room, device.room_en = "طبقه همکف، اتاق ۱۰۴", "Ground floor, room 104"
        await uow.commit()
    await world.drain()
    [message] = [m for m in world.chat.messages_to(5031) if m.from_bot]
    assert "Ground floor, room 104" in (message.text or "")
    assert "اتاق" not in (message.text or "")


async def test_a_desk_booking_or_a_closure_move_brings_the_calendar_file(world: World) -> None:
    world.chat.create_user(5011, "بیمار")
    async with world.env.uow() as uow:
        _, booking_id = await _booked(uow, chat_user=5011)
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        booking.channel = BookingChannel.DESK  # reception booked it: the bot sent no file
        await uow.commit()
    await world.drain()
    sent = [m for m in world.chat.messages_to(5011) if m.from_bot]
    documents = [m for m in sent if "document" in m.data]
    assert len(sent) == 2 and len(documents) == 1
    stored = world.chat.world.files.by_id(documents[0].data["document"]["file_id"])
    assert stored is not None
    _, event = parse_valid(stored.data)
    assert moment(event, "DTSTART") == datetime(2026, 11, 30, 9, 0, tzinfo=TEHRAN)


async def test_a_booking_made_in_the_bot_gets_no_second_file(world: World) -> None:
    world.chat.create_user(5012, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5012)  # the bot sent the file when the patient confirmed
        await uow.commit()
    await world.drain()
    assert not [m for m in world.chat.messages_to(5012) if "document" in m.data]
