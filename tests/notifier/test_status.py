"""SMS receipts are recorded at send time and their delivery states polled from the gateways."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from clinic.models import ActorKind, OutboxMessage, Platform
from clinic.outbox import Notice, enqueue
from clinic.patients import link_chat_account
from notifier.channels import SmsChannel
from notifier.sms import FailoverSms, KavenegarSms, SmsProvider
from notifier.status import BulkStatus, poll_delivery_states
from tests.factories import add_patient
from tests.notifier.conftest import SMS_KEY, World

MOBILE = "09120000000"  # patient 0's number in tests.factories


async def _notice_for_patient(world: World, *, chat_user: int | None = None) -> None:
    """One notice for patient 0 (SMS only unless ``chat_user`` links a chat account)."""
    async with world.env.uow() as uow:
        patient = await add_patient(uow, 0)
        if chat_user is not None:
            world.chat.create_user(chat_user, "بیمار")
            await link_chat_account(uow, patient, Platform.TELEGRAM, chat_user, chat_user)
        await enqueue(
            uow,
            recipient_kind=ActorKind.PATIENT,
            recipient_id=patient,
            kind=Notice.REFERRAL_RECEIVED,
            dedup_key="status-test",
            params={"referral_id": 1},
        )
        await uow.commit()
    await world.drain()


async def _row(world: World) -> OutboxMessage:
    async with world.env.uow() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
    assert len(rows) == 1
    return rows[0]


async def _poll(world: World, provider: SmsProvider | None = None) -> int:
    if provider is None:
        assert world.worker.channels.sms is not None
        provider = world.worker.channels.sms.provider
    return await poll_delivery_states(world.env.uow, provider, now=world.env.clock.now())


def _use(world: World, provider: SmsProvider) -> None:
    world.worker.channels.sms = SmsChannel(provider)


async def test_the_kavenegar_receipt_is_kept_and_polled_until_delivered(world: World) -> None:
    await _notice_for_patient(world)
    row = await _row(world)
    (message,) = world.sms.inbox(MOBILE)
    assert (row.status, row.channel) == ("sent", "sms")
    assert row.provider_ref == f"kavenegar:{message.id}"
    assert (row.delivery_state, row.delivery_checked_at) == ("queued", None)

    assert await _poll(world) == 0  # younger than a minute: not asked yet
    world.env.clock.advance(minutes=2)
    assert await _poll(world) == 1  # asked: still queued
    checked = await _row(world)
    assert (checked.delivery_state, checked.delivery_checked_at) == (
        "queued",
        world.env.clock.now(),
    )

    world.sms.advance()  # queued → sent
    world.env.clock.advance(minutes=1)
    assert await _poll(world) == 0  # checked a minute ago: not again yet
    world.env.clock.advance(minutes=5)
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "sent"

    world.sms.advance()  # sent → delivered
    world.env.clock.advance(minutes=5)
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "delivered"
    world.env.clock.advance(hours=1)
    assert await _poll(world) == 0  # final: never asked again
    assert world.sms.count("kavenegar", "sms/status") == 3


async def test_a_chat_send_keeps_no_receipt(world: World) -> None:
    await _notice_for_patient(world, chat_user=7001)
    row = await _row(world)
    assert (row.status, row.channel) == ("sent", "telegram")
    assert (row.provider_ref, row.delivery_state) == (None, None)
    world.env.clock.advance(minutes=10)
    assert await _poll(world) == 0
    assert world.sms.count("kavenegar", "requests") == 0


async def test_a_phone_that_stays_off_ends_undelivered(world: World) -> None:
    world.sms.mark_undeliverable(MOBILE)
    await _notice_for_patient(world)
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    assert await _poll(world) == 1
    row = await _row(world)
    assert (row.status, row.delivery_state) == ("sent", "undelivered")  # recorded, not resent
    assert len(world.sms.inbox(MOBILE)) == 1


async def test_a_gateway_that_is_down_leaves_the_row_for_later(world: World) -> None:
    await _notice_for_patient(world)
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    world.sms.fail_next("kavenegar", 1, status=502)
    assert await _poll(world) == 0
    row = await _row(world)
    assert (row.delivery_state, row.delivery_checked_at) == ("queued", None)
    world.sms.fail_next("kavenegar", 1, status=401)  # our key refused: not the message's fault
    assert await _poll(world) == 0
    assert (await _row(world)).delivery_state == "queued"
    assert await _poll(world) == 1  # back up: asked at once, not after recheck_every
    assert (await _row(world)).delivery_state == "delivered"


async def test_a_permanent_answer_about_the_message_records_unknown(world: World) -> None:
    await _notice_for_patient(world)
    world.env.clock.advance(minutes=2)
    # The bulk call fails, then the one-by-one question about this id fails too.
    world.sms.fail_next("kavenegar", 2, status=400)
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "unknown"


async def test_a_state_still_open_after_two_days_becomes_unknown(world: World) -> None:
    await _notice_for_patient(world)
    world.env.clock.advance(hours=49)  # the sandbox never moved it on
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "unknown"


async def test_smsir_receipts_are_polled_through_its_report_endpoint(world: World) -> None:
    _use(world, world.sms_provider("smsir"))
    await _notice_for_patient(world)
    (message,) = world.sms.inbox(MOBILE)
    row = await _row(world)
    assert (row.provider_ref, row.delivery_state) == (f"smsir:{message.id}", "queued")
    world.env.clock.advance(minutes=2)
    world.sms.advance()
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "sent"
    world.sms.advance()
    world.env.clock.advance(minutes=5)
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "delivered"
    assert world.sms.count("smsir", "send/report") == 2


async def test_smsir_undelivered(world: World) -> None:
    _use(world, world.sms_provider("smsir"))
    world.sms.mark_undeliverable(MOBILE)
    await _notice_for_patient(world)
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    assert await _poll(world) == 1
    assert (await _row(world)).delivery_state == "undelivered"


async def test_behind_a_failover_the_gateway_that_sent_is_asked(world: World) -> None:
    failover = FailoverSms(world.sms_provider("kavenegar"), world.sms_provider("smsir"))
    _use(world, failover)
    world.sms.set_credit("kavenegar", 0)  # 418: SMS.ir takes over
    await _notice_for_patient(world)
    row = await _row(world)
    (message,) = world.sms.inbox(MOBILE)
    assert message.gateway == "smsir"
    assert row.provider_ref == f"smsir:{message.id}"
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    assert await _poll(world, failover) == 1
    assert (await _row(world)).delivery_state == "delivered"
    assert world.sms.count("kavenegar", "sms/status") == 0
    assert world.sms.count("smsir", "send/report") == 1


async def test_a_provider_is_not_asked_about_another_gateways_messages(world: World) -> None:
    _use(world, world.sms_provider("smsir"))
    await _notice_for_patient(world)
    world.env.clock.advance(minutes=2)
    assert await _poll(world, world.sms_provider("kavenegar")) == 0
    assert world.sms.count("kavenegar", "requests") == 0
    assert (await _row(world)).delivery_state == "queued"


async def test_a_health_worker_sms_keeps_its_receipt(world: World) -> None:
    from clinic.actors import Actor
    from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
    from clinic.models import Role
    from clinic.staff import add_health_house, add_health_worker
    from tests.factories import ADMIN, build_department

    async with world.env.uow() as uow:
        await build_department(uow)
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم", mobile="09150000009"
        )
        staff = Actor.staff(1, [Role.BROADCASTER])
        draft, _count = await draft_broadcast(
            uow, staff, "بخش فردا ساعت ۱۰ باز می‌شود.", Audience("health_workers")
        )
        await send_broadcast(uow, staff, draft.id)
        await uow.commit()
    await world.drain()
    (message,) = world.sms.inbox("09150000009")
    row = await _row(world)
    assert (row.recipient_kind, row.channel) == ("health_worker", "sms")
    assert (row.provider_ref, row.delivery_state) == (f"kavenegar:{message.id}", "queued")
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    assert await world.worker.poll_statuses() == 1
    assert (await _row(world)).delivery_state == "delivered"


async def test_the_worker_polls_statuses_while_it_runs(world: World) -> None:
    await _notice_for_patient(world)
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    world.worker.status_every = 0.05
    stop = asyncio.Event()
    task = asyncio.create_task(world.worker.run(stop))
    try:
        for _ in range(250):
            if (await _row(world)).delivery_state == "delivered":
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    assert (await _row(world)).delivery_state == "delivered"
    assert world.sms.count("kavenegar", "sms/status") >= 1


async def test_polling_is_bounded_by_the_batch(world: World) -> None:
    async with world.env.uow() as uow:
        for n in range(5):
            patient = await add_patient(uow, n)
            await enqueue(
                uow,
                recipient_kind=ActorKind.PATIENT,
                recipient_id=patient,
                kind=Notice.REFERRAL_RECEIVED,
                dedup_key=f"status-batch-{n}",
                params={"referral_id": n},
            )
        await uow.commit()
    await world.drain()
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    assert world.worker.channels.sms is not None
    provider = world.worker.channels.sms.provider
    now = world.env.clock.now()
    first = await poll_delivery_states(world.env.uow, provider, now=now, batch=3, concurrency=2)
    rest = await poll_delivery_states(world.env.uow, provider, now=now, batch=3)
    assert (first, rest) == (3, 2)
    async with world.env.uow() as uow:
        states = set(await uow.session.scalars(select(OutboxMessage.delivery_state)))
    assert states == {"delivered"}


async def test_a_provider_with_a_bulk_status_call_is_asked_once(world: World) -> None:
    async with world.env.uow() as uow:
        for n in range(3):
            patient = await add_patient(uow, n)
            await enqueue(
                uow,
                recipient_kind=ActorKind.PATIENT,
                recipient_id=patient,
                kind=Notice.REFERRAL_RECEIVED,
                dedup_key=f"status-bulk-{n}",
                params={"referral_id": n},
            )
        await uow.commit()
    await world.drain()
    world.sms.advance(2)
    world.env.clock.advance(minutes=2)
    bulk = KavenegarSms(
        world.http, api_key=SMS_KEY, base_url=world.sms.url, sender="10004346", timeout=0.5
    )
    assert isinstance(bulk, BulkStatus)
    assert await _poll(world, bulk) == 3
    assert world.sms.count("kavenegar", "sms/status") == 1
    async with world.env.uow() as uow:
        states = list(await uow.session.scalars(select(OutboxMessage.delivery_state)))
    assert states == ["delivered"] * 3
