"""The outbound sender over MLLP to a real receiver (tests/notifier/ris_receiver.py, built
on the ``hl7`` package, validating with hl7apy): each booking change arrives as a valid SIU,
in order, over one connection; a receiver that is down, refuses, answers late or drops the
connection loses nothing and never reorders one booking's events."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import outbound
from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.daylist import check_in, mark_no_show
from clinic.errors import NotFound
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry, Exam, OutboundEvent
from notifier.outbound.mllp_adapter import MllpAdapter
from notifier.outbound.orm import build_orm
from notifier.outbound.sender import OutboundSender
from notifier.outbound.siu import build_siu
from notifier.web import create_app
from radyar.app import App
from radyar.outbound_run import run_outbound
from radyar.settings import Settings
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.notifier.ris_receiver import Ris
from tests.notifier.test_web import _get

if TYPE_CHECKING:
    from pathlib import Path

    from clinic.policy import Policy
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)
TOLD = ("hl7_siu",)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


def _told(env: ClinicEnv) -> Policy:
    return replace(env.policy, outbound=TOLD)


def _sender(env: ClinicEnv, port: int, *, ack_seconds: float = 5.0) -> OutboundSender:
    adapter = MllpAdapter(
        "hl7_siu", build_siu, "127.0.0.1", port, connect_seconds=2, ack_seconds=ack_seconds
    )
    return OutboundSender(lambda: env.uow(_told(env)), adapter, idle_seconds=0.01)


async def _book(env: ClinicEnv, n: int, hh: int, day: date = MONDAY) -> tuple[int, int, str]:
    """Patient ``n`` books CT on ``day`` at ``hh``: (referral, booking id, booking code)."""
    async with env.uow(_told(env)) as uow:
        dept = await build_department(uow) if n == 1 else None
        ct = dept.ct.id if dept else 1
        exam = dept.ct_brain if dept else await _exam(uow)
        patient = await add_patient(uow, n)
        referral = await approved_referral(uow, patient, exam)
        held = await hold_slot(uow, Actor.patient(patient), referral, ct, at(day, hh))
        booking = await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
        return referral, booking.id, booking.code


async def _book_and_cancel(env: ClinicEnv) -> str:
    """Patient 1 books Monday 09:00 and cancels: two events of one referral; the code."""
    _, booking_id, code = await _book(env, 1, 9)
    async with env.uow(_told(env)) as uow:
        await cancel_booking(uow, Actor.patient(1), booking_id, reason="patient")
        await uow.commit()
    return code


async def _exam(uow: UnitOfWork) -> Exam:
    exam = await uow.session.scalar(select(Exam).where(Exam.code == "CT-BRAIN"))
    assert exam is not None
    return exam


async def _states(env: ClinicEnv) -> list[tuple[str, str, int]]:
    async with env.uow() as uow:
        rows = await uow.session.execute(
            select(OutboundEvent.kind, OutboundEvent.status, OutboundEvent.referral_id).order_by(
                OutboundEvent.id
            )
        )
        return [(kind, str(status), referral) for kind, status, referral in rows.tuples().all()]


async def _drain(sender: OutboundSender, rounds: int = 10) -> None:
    for _ in range(rounds):
        if await sender.run_once() == 0:
            return


async def test_each_change_arrives_as_a_valid_siu_in_order_over_one_connection(
    env: ClinicEnv,
) -> None:
    ris = await Ris().start()
    try:
        referral, booking_id, code = await _book(env, 1, 9)
        async with env.uow(_told(env)) as uow:
            hold = await reschedule_hold(uow, Actor.patient(1), booking_id, 1, at(TUESDAY, 9))
            moved = await confirm_booking(uow, Actor.patient(1), hold.id)
            await uow.commit()
        env.clock.set(at(TUESDAY, 8, 50))
        async with env.uow(_told(env)) as uow:
            await check_in(uow, RECEPTION, moved.id)
            await uow.commit()
        _, other_id, other_code = await _book(env, 2, 11, TUESDAY)
        async with env.uow(_told(env)) as uow:
            await cancel_booking(uow, RECEPTION, other_id, reason="staff")
            await uow.commit()
        sender = _sender(env, ris.port)
        await _drain(sender)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    # The moved booking has a new code; the RIS keeps hearing of the appointment it was told.
    assert moved.code != code
    # In order per appointment; the other patient's do not wait behind them.
    assert [t for t, placer in ris.triggers() if placer == code] == ["S12", "S14", "S14"]
    assert [t for t, placer in ris.triggers() if placer == other_code] == ["S12", "S15"]
    assert all(r.valid for r in ris.received)
    statuses = [r.filler_status for r in ris.received if r.placer_id == code]
    assert statuses == ["Booked", "Booked", "Arrived"]
    assert {r.family_name for r in ris.received} == {"رضایی"}
    assert ris.connections == 1
    states = await _states(env)
    assert {state for _, state, _ in states} == {"sent"}
    assert [kind for kind, _, r in states if r == referral] == ["booked", "moved", "admitted"]


async def test_a_receiver_that_is_down_loses_nothing_and_order_holds_when_it_returns(
    env: ClinicEnv,
) -> None:
    ris = await Ris().start()
    port = ris.port
    await ris.stop()  # the RIS is down
    code = await _book_and_cancel(env)
    sender = _sender(env, port)
    assert await sender.run_once() == 1  # tried once, the rest of the batch given back
    states = await _states(env)
    assert [(k, s) for k, s, _ in states] == [("booked", "pending"), ("cancelled", "pending")]
    async with env.uow() as uow:
        first = await uow.session.scalar(select(OutboundEvent).order_by(OutboundEvent.id))
        assert first is not None and first.attempts == 1
        assert first.answer == "connection: ConnectionRefusedError"
        assert first.next_attempt_at > env.clock.now()  # backoff
    assert await sender.run_once() == 0  # not due yet; the cancellation waits behind it
    ris = await Ris().start(port)
    try:
        env.clock.advance(minutes=5)
        await _drain(sender)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers() == [("S12", code), ("S15", code)]
    assert [s for _, s, _ in await _states(env)] == ["sent", "sent"]


async def test_ae_for_the_receivers_own_trouble_is_sent_again_with_the_same_control_id(
    env: ClinicEnv,
) -> None:
    ris = await Ris(answers=["AE 207"]).start()
    try:
        _, _, code = await _book(env, 1, 9)
        sender = _sender(env, ris.port)
        await sender.run_once()
        assert [s for _, s, _ in await _states(env)] == ["pending"]
        env.clock.advance(minutes=5)
        await _drain(sender)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers() == [("S12", code), ("S12", code)]
    assert ris.received[0].control_id == ris.received[1].control_id
    assert [s for _, s, _ in await _states(env)] == ["sent"]


async def test_ar_is_kept_for_staff_and_holds_back_that_bookings_later_events_only(
    env: ClinicEnv,
) -> None:
    ris = await Ris(answers=["AR 101"]).start()
    try:
        ra, booking_a, code_a = await _book(env, 1, 9)
        async with env.uow(_told(env)) as uow:
            await cancel_booking(uow, Actor.patient(1), booking_a, reason="patient")
            await uow.commit()
        rb, _, code_b = await _book(env, 2, 10)
        sender = _sender(env, ris.port)
        await _drain(sender)
        # A's booking was refused: its cancellation is not told before it; B's goes.
        assert ris.triggers() == [("S12", code_a), ("S12", code_b)]
        states = await _states(env)
        assert states == [("booked", "failed", ra), ("cancelled", "pending", ra),
                          ("booked", "sent", rb)]  # fmt: skip
        async with env.uow() as uow:
            listed = await outbound.failed(uow, RECEPTION)
            assert [(e.kind, e.answer) for e in listed] == [
                # The RIS's own text is kept masked: it may quote the patient.
                ("booked", "AR 101 (required field missing): xxxxxxx xx xxx xxxx xxx")
            ]
            assert await outbound.failed_count(uow, RECEPTION) == 1
        status, metrics = await _get(create_app(env.uow), "/metrics")
        assert status == 200
        for state, n in (("failed", 1), ("pending", 1), ("sent", 1), ("sending", 0)):
            assert f'radyar_outbound_events{{adapter="hl7_siu",state="{state}"}} {n}' in metrics
        async with env.uow() as uow:
            listed = await outbound.failed(uow, RECEPTION)
            # Staff fixed the patient at the RIS and send it again: then the cancellation.
            await outbound.retry(uow, RECEPTION, listed[0].id)
            await uow.commit()
        await _drain(sender)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers()[2:] == [("S12", code_a), ("S15", code_a)]
    assert [s for _, s, _ in await _states(env)] == ["sent", "sent", "sent"]
    async with env.uow() as uow:
        actions = await uow.session.scalars(select(AuditEntry.action))
        assert "outbound.retry" in set(actions)


async def test_staff_may_set_a_refused_event_aside_and_the_rest_go_on(env: ClinicEnv) -> None:
    ris = await Ris(answers=["AR 204"]).start()
    try:
        code = await _book_and_cancel(env)
        sender = _sender(env, ris.port)
        await _drain(sender)
        async with env.uow() as uow:
            (refused,) = await outbound.failed(uow, RECEPTION)
            await outbound.skip(uow, RECEPTION, refused.id)
            await uow.commit()
            try:  # set aside: no longer among the failed ones
                await outbound.get_failed(uow, RECEPTION, refused.id)
                raise AssertionError("a set-aside event is still listed")
            except NotFound:
                pass
        await _drain(sender)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers() == [("S12", code), ("S15", code)]
    assert [s for _, s, _ in await _states(env)] == ["cancelled", "sent"]


async def test_a_late_ack_or_a_dropped_connection_is_sent_again_in_order(env: ClinicEnv) -> None:
    # Late by far more than the sender waits; every other ACK is at once (a loaded machine
    # must not make an on-time answer late).
    ris = await Ris(answers=["late", "drop"], late_seconds=4.0).start()
    try:
        code = await _book_and_cancel(env)
        sender = _sender(env, ris.port, ack_seconds=1.5)
        for _ in range(6):
            await sender.run_once()
            env.clock.advance(minutes=10)
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    # Late: the S12 again on a new connection; dropped: again; then AA, and the S15 after it.
    assert ris.triggers() == [("S12", code), ("S12", code), ("S12", code), ("S15", code)]
    assert ris.connections == 3
    assert [s for _, s, _ in await _states(env)] == ["sent", "sent"]


async def test_a_connection_dropped_mid_message_either_way_loses_nothing(env: ClinicEnv) -> None:
    # A receiver that reads a few bytes of our message and hangs up: nothing was taken.
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(20)
        writer.close()

    cutter = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = cutter.sockets[0].getsockname()[1]
    code = await _book_and_cancel(env)
    sender = _sender(env, port)
    await sender.run_once()
    cutter.close()
    await cutter.wait_closed()
    assert [s for _, s, _ in await _states(env)] == ["pending", "pending"]
    # Then a RIS that takes the message but drops the line halfway through its ACK.
    ris = await Ris(answers=["half"]).start(port)
    try:
        for _ in range(4):
            env.clock.advance(minutes=10)
            await sender.run_once()
        await sender.adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers() == [("S12", code), ("S12", code), ("S15", code)]
    assert [s for _, s, _ in await _states(env)] == ["sent", "sent"]


async def test_an_event_undelivered_for_a_day_fails_and_a_dead_senders_lease_runs_out(
    env: ClinicEnv,
) -> None:
    ris = await Ris().start()
    port = ris.port
    await ris.stop()
    await _book(env, 1, 9)
    sender = _sender(env, port)
    await sender.run_once()
    env.clock.advance(hours=25)
    await sender.run_once()
    async with env.uow() as uow:
        (event,) = await outbound.failed(uow, RECEPTION)
        assert event.answer == "not delivered in 24 h: connection: ConnectionRefusedError"
        await outbound.retry(uow, RECEPTION, event.id)
        await uow.commit()
    # A sender claims it and dies before sending: after the lease another sends it.
    async with env.uow(_told(env)) as uow:
        assert await outbound.claim(uow, "hl7_siu", 10, timedelta(minutes=2)) == [event.id]
    ris = await Ris().start()
    try:
        fresh = _sender(env, ris.port)
        assert await fresh.run_once() == 0  # leased to the dead one
        env.clock.advance(minutes=3)
        assert await fresh.run_once() == 1
        await fresh.adapter.aclose()
    finally:
        await ris.stop()
    assert len(ris.received) == 1
    assert [s for _, s, _ in await _states(env)] == ["sent"]


async def test_orders_instead_of_schedules_and_a_no_show(env: ClinicEnv) -> None:
    policy = replace(env.policy, outbound=("hl7_orm",))
    ris = await Ris().start()
    try:
        async with env.uow(policy) as uow:
            dept = await build_department(uow)
            patient = await add_patient(uow, 1)
            referral = await approved_referral(uow, patient, dept.ct_brain)
            held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id,
                                   at(MONDAY, 9))  # fmt: skip
            booking = await confirm_booking(uow, Actor.patient(patient), held.id)
            await uow.commit()
        env.clock.set(at(MONDAY, 9, 30))
        async with env.uow(policy) as uow:
            await mark_no_show(uow, RECEPTION, booking.id)
            await uow.commit()
        adapter = MllpAdapter("hl7_orm", build_orm, "127.0.0.1", ris.port)
        sender = OutboundSender(lambda: env.uow(policy), adapter)
        await _drain(sender)
        await adapter.aclose()
    finally:
        await ris.stop()
    assert ris.triggers() == [("O01", booking.code), ("O01", booking.code)]
    assert all(r.valid for r in ris.received)
    assert [r.filler_status for r in ris.received] == ["SC", "DC"]


async def test_only_the_kinds_of_change_an_adapter_is_set_to_hear_are_written(
    env: ClinicEnv,
) -> None:
    policy = replace(
        env.policy, outbound=("hl7_siu",), outbound_events=(("hl7_siu", ("cancelled",)),)
    )
    async with env.uow(policy) as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 1)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, at(MONDAY, 9))
        booking = await confirm_booking(uow, Actor.patient(patient), held.id)
        await cancel_booking(uow, Actor.patient(patient), booking.id, reason="patient")
        await uow.commit()
    assert [(k, s) for k, s, _ in await _states(env)] == [("cancelled", "pending")]


async def test_radyar_run_tells_the_ris_its_settings_name(env: ClinicEnv, tmp_path: Path) -> None:
    ris = await Ris().start()
    settings = Settings.from_env(
        {
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_RIS_MLLP_HOST": "127.0.0.1",
            "RADYAR_RIS_MLLP_PORT": str(ris.port),
            "RADYAR_RIS_EVENTS": "booked",
        }
    )
    app = App(settings, env.engine, env.sessionmaker, env.clock)
    stop = asyncio.Event()
    try:
        async with app.uow() as uow:  # the bot's unit of work writes the events
            dept = await build_department(uow)
            patient = await add_patient(uow, 1)
            referral = await approved_referral(uow, patient, dept.ct_brain)
            held = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id,
                                   at(MONDAY, 9))  # fmt: skip
            booking = await confirm_booking(uow, Actor.patient(patient), held.id)
            await cancel_booking(uow, Actor.patient(patient), booking.id, reason="patient")
            await uow.commit()
        task = asyncio.create_task(run_outbound(settings, app, stop))
        for _ in range(200):
            if ris.received:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)
    finally:
        await ris.stop()
    assert ris.triggers() == [("S12", booking.code)]  # the cancellation is not its to hear
    assert [(k, s) for k, s, _ in await _states(env)] == [("booked", "sent")]
