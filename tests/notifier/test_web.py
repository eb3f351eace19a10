"""/healthz and /metrics over HTTP on loopback, with the outbox as the worker left it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.db import make_engine, make_sessionmaker
from clinic.hospital_inbox import keep_rejected
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import BookingChannel
from clinic.reports import ReportEvent, report_event
from clinic.uow import UnitOfWork
from notifier.web import create_app
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.notifier.test_dispatch import _booked
from tests.two_sites import build_two_sites

if TYPE_CHECKING:
    from tests.notifier.conftest import World


async def _get(app: web.Application, path: str) -> tuple[int, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}{path}") as response,
        ):
            return response.status, await response.text()
    finally:
        await runner.cleanup()


async def test_health_and_metrics_show_the_outbox(world: World) -> None:
    world.chat.create_user(5020, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5020)
        await uow.commit()
    await world.drain()
    app = create_app(world.env.uow)
    status, body = await _get(app, "/healthz")
    assert (status, body) == (200, '{"status": "ok"}')
    status, metrics = await _get(app, "/metrics")
    assert status == 200
    assert 'radyar_outbox_messages{status="pending"} 2' in metrics  # the two reminders
    assert 'radyar_outbox_messages{status="sent"} 1' in metrics
    labels = 'status="sent",channel="telegram",kind="booking_confirmed"'
    sent = "radyar_outbox_delivered_total{" + labels + "} 1"
    assert sent in metrics
    assert "radyar_delivery_latency_seconds_count 1" in metrics


async def test_health_says_unavailable_when_the_database_is_gone(world: World) -> None:
    # Nothing listens on port 1 of loopback: every connection is refused.
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    sessions = make_sessionmaker(engine)
    try:
        app = create_app(lambda: UnitOfWork(sessions, world.env.clock, world.env.policy))
        status, body = await _get(app, "/healthz")
    finally:
        await engine.dispose()
    assert (status, body) == (503, '{"status": "unavailable"}')


async def test_metrics_show_events_waiting_for_staff_and_sms_delivery_states(world: World) -> None:
    async with world.env.uow() as uow:
        await _booked(uow)  # no chat account: the confirmation goes by SMS
        await report_event(
            uow,
            source="pacs",
            accession_number="NOBODY-1",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=uow.clock.now(),
        )
        await keep_rejected(uow, "hl7", "unparseable", "garbage")
        await uow.commit()
    await world.drain()
    status, metrics = await _get(create_app(world.env.uow), "/metrics")
    assert status == 200
    assert 'radyar_hospital_events_waiting{source="pacs"} 1' in metrics
    assert 'radyar_hospital_messages_refused{source="hl7"} 1' in metrics
    assert 'radyar_sms_delivery_states{state="queued"} 1' in metrics


async def test_metrics_show_the_last_30_days_appointments_by_channel(world: World) -> None:
    async with world.env.uow() as uow:
        dept = await build_department(uow, ct_places=2)
        today = to_tehran(world.env.clock.now()).date()
        noon = datetime.combine(today, time(12), tzinfo=TEHRAN)
        for n, actor_channel in enumerate((None, BookingChannel.PHONE)):
            patient = await add_patient(uow, n)
            referral = await approved_referral(uow, patient, dept.ct_brain)
            who = Actor.patient(patient) if actor_channel is None else RECEPTION
            held = await hold_slot(uow, who, referral, dept.ct.id, noon, channel=actor_channel)
            await confirm_booking(uow, who, held.id)
        await uow.commit()
    status, metrics = await _get(create_app(world.env.uow), "/metrics")
    assert status == 200
    assert 'radyar_appointments{modality="CT",channel="chat"} 1' in metrics
    assert 'radyar_appointments{modality="CT",channel="phone"} 1' in metrics
    assert "radyar_electronic_booking_share 0.5000" in metrics


async def test_metrics_show_each_sites_appointments_and_electronic_share(world: World) -> None:
    # Bojnurd books one in chat and one by phone; Shirvan one in chat and has no phone one.
    async with world.env.uow() as uow:
        both = await build_two_sites(uow)
        today = to_tehran(world.env.clock.now()).date()
        noon = datetime.combine(today, time(12), tzinfo=TEHRAN)
        made = [(both.dept.ct.id, None), (both.dept.ct.id, BookingChannel.PHONE)]
        made.append((both.ct_b.id, None))
        for n, (device, channel) in enumerate(made):
            patient = await add_patient(uow, n)
            referral = await approved_referral(uow, patient, both.dept.ct_brain)
            who = Actor.patient(patient) if channel is None else RECEPTION
            starts = noon + timedelta(minutes=15 * n)
            held = await hold_slot(uow, who, referral, device, starts, channel=channel)
            await confirm_booking(uow, who, held.id)
        await uow.commit()
    status, metrics = await _get(create_app(world.env.uow), "/metrics")
    assert status == 200
    assert 'radyar_site_appointments{site="bojnurd-imam-reza/radiology"} 2' in metrics
    assert 'radyar_site_appointments{site="shirvan-imam-khomeini/radiology"} 1' in metrics
    bojnurd = 'radyar_site_electronic_booking_share{site="bojnurd-imam-reza/radiology"} 0.5000'
    assert bojnurd in metrics
    shirvan = 'radyar_site_electronic_booking_share{site="shirvan-imam-khomeini/radiology"}'
    assert f"{shirvan} 1.0000" in metrics
    assert "radyar_electronic_booking_share 0.6667" in metrics  # the university's
