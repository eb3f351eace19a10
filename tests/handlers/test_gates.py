"""The gates and forged presses, the quick way: the real handlers and database, the Bot API
offline (``tests.handlers.offline``). Who may act is decided in the bot's handler groups; a
press that is not for this person passes on and ends where any unknown press ends."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.handlers.common import STALE
from bot.staff import menu
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.errors import ClinicError, NotFound
from clinic.models import (
    AuditEntry,
    Booking,
    Broadcast,
    Closure,
    Device,
    Exam,
    OutboxMessage,
    Platform,
    Referral,
)
from clinic.patients import link_chat_account
from clinic.referrals import ReferralRequest, screening_for, submit_referral
from clinic.staff import add_staff
from clinic.text import to_persian_digits
from tests.factories import add_patient, approved_referral
from tests.handlers.offline import OfflineBot, answers

if TYPE_CHECKING:
    import pytest

    from tests.conftest import ClinicEnv

ATTACKER, RECEPTION_USER = 8101, 8102


async def _victim(env: ClinicEnv) -> tuple[Booking, int]:
    """Another patient's confirmed chest X-ray, and another's MRI referral waiting for review."""
    async with env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "XR-CHEST"))
        device = await uow.session.scalar(select(Device.id).where(Device.code == "XR-1"))
        assert exam is not None and device is not None
        victim = await add_patient(uow, 901)
        referral = await approved_referral(uow, victim, exam)
        starts = uow.clock.now().replace(hour=4, minute=0, second=0, microsecond=0)
        held = None
        for day in range(1, 10):  # the first working morning from tomorrow
            try:
                held = await hold_slot(
                    uow, Actor.patient(victim), referral, device, starts + timedelta(days=day)
                )
                break
            except ClinicError:  # a closed or full morning: try the next day
                await uow.rollback()
                continue
        assert held is not None
        booking = await confirm_booking(uow, Actor.patient(victim), held.id)
        mri = await uow.session.scalar(select(Exam).where(Exam.code == "MRI-BRAIN"))
        assert mri is not None
        other = await add_patient(uow, 902)
        questions = await screening_for(uow, mri.id, other)
        answers = {q.code: q.blocking_answer is False for q in questions}
        request = ReferralRequest(other, mri.id, "tamin", answers, tracking_code="555666777")
        waiting = await submit_referral(uow, Actor.patient(other), request)
        await uow.commit()
        return booking, waiting.id


async def _patient(env: ClinicEnv, user_id: int, n: int) -> int:
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        await link_chat_account(uow, patient, Platform.TELEGRAM, user_id, user_id)
        await uow.commit()
    return patient


async def _nothing_changed(env: ClinicEnv, booking: Booking, referral_id: int) -> None:
    async with env.uow() as uow:
        after = await uow.session.get(Booking, booking.id)
        assert after is not None
        assert (after.status, after.starts_at) == (booking.status, booking.starts_at)
        referral = await uow.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "submitted"
        for model in (Closure, Broadcast):
            assert await uow.session.scalar(select(func.count(model.id))) == 0
        kinds = set(await uow.session.scalars(select(OutboxMessage.kind)))
        assert kinds <= {"booking_confirmed", "preparation", "referral_received", "reminder"}
        staff_actions = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor_kind == "staff")
        )
        assert staff_actions == 0


def _staff_presses(booking: Booking, referral_id: int) -> list[str]:
    b, r = booking.id, referral_id
    return [
        "smenu", "sref", f"srv:{r}", f"srok:{r}", f"srxr:{r}:0", f"sci:{b}", f"sns:{b}",
        f"scxok:{b}", "scl", "sclok", f"scc:{b}", "sadd:a", "sadn:a", "sbs:1", "sbp:1", "srpf",
    ]  # fmt: skip


def _worker_presses(booking: Booking) -> list[str]:
    b, p = booking.id, booking.patient_id
    return [
        "wmenu", "wlist", f"wpat:{p}", "wreg", f"wreq:{p}", f"wbk:{b}", f"wcx:{b}",
        f"wcxok:{b}", f"wok:{b}", "wfind", f"wrqx:{p}", f"wrqxok:{p}", "wagree",
    ]  # fmt: skip


async def test_a_stranger_meets_no_staff_or_health_worker_mode(bot: OfflineBot) -> None:
    stranger = bot.chat(8001)
    answers = []
    for command in ("/staff", "/worker", "/nosuchcommand"):
        calls = await stranger.say(command)
        answers.append([c.params.get("text") for c in calls if c.method == "sendMessage"])
    assert answers[0] == answers[1] == answers[2] == [stranger._("Please send /start to begin.")]


async def test_staff_and_health_worker_presses_from_a_patient_end_like_any_unknown_press(
    bot: OfflineBot, sqlite_env: ClinicEnv, caplog: pytest.LogCaptureFixture
) -> None:
    booking, waiting = await _victim(sqlite_env)
    await _patient(sqlite_env, ATTACKER, 903)
    attacker = bot.chat(ATTACKER)
    stale = attacker._(STALE)
    for data in [*_staff_presses(booking, waiting), *_worker_presses(booking), "zzz"]:
        calls = await attacker.press(data)
        said = [c for c in calls if c.method in ("sendMessage", "editMessageText")]
        answered = answers(calls)
        assert (data, answered, said) == (data, [stale], [])
    await _nothing_changed(sqlite_env, booking, waiting)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_reception_cannot_use_the_admin_steps_or_a_health_workers(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    booking, waiting = await _victim(sqlite_env)
    async with sqlite_env.uow() as uow:
        await add_staff(
            uow, Actor.system(), full_name="پذیرش", roles=("reception",),
            telegram_user_id=RECEPTION_USER,
        )  # fmt: skip
        await uow.commit()
    reception = bot.chat(RECEPTION_USER)
    # The gate lets them into their own mode: the staff menu, in place of the pressed message.
    shown = [c.params.get("text") for c in await reception.press("smenu")]
    assert reception._(menu.MENU) in shown
    for data in ["sadd:a", "sadn:a", "sbs:1", "sbp:1", *_worker_presses(booking)]:
        await reception.press(data)
    async with sqlite_env.uow() as uow:
        actions = await uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_kind == "staff")
        )
        assert list(actions) == []
        assert await uow.session.scalar(select(func.count(Broadcast.id))) == 0
    await _nothing_changed(sqlite_env, booking, waiting)


async def test_a_patients_forged_presses_on_another_patients_booking_find_nothing(
    bot: OfflineBot, sqlite_env: ClinicEnv, caplog: pytest.LogCaptureFixture
) -> None:
    booking, waiting = await _victim(sqlite_env)
    await _patient(sqlite_env, ATTACKER, 904)
    attacker = bot.chat(ATTACKER)
    day = f"{booking.starts_at:%Y%m%d}"
    forged = [
        f"ok:{booking.id}",
        f"days:bk:{booking.id}:0",
        f"day:bk:{booking.id}:{day}",
        f"hold:bk:{booking.id}:{booking.device_id}:{day}1000",
        f"days:ref:{booking.referral_id}:0",
        f"day:ref:{booking.referral_id}:{day}",
        f"days:ref:{waiting}:0",
        "ok:99999999999",
        "days:ref:99999999999999999999:0",
        "x" * 100,
        "::",
    ]
    shown: list[str] = []
    for data in forged:
        calls = await attacker.press(data)
        assert [c for c in calls if c.method == "answerCallbackQuery"], data
        shown += [str(c.params.get("text") or "") for c in calls]
    text = "\n".join(shown)
    assert booking.code not in text and to_persian_digits(booking.code) not in text
    assert attacker._(NotFound.message) in text
    await _nothing_changed(sqlite_env, booking, waiting)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
