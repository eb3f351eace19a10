"""The patient's own buttons at the gate (``bot.gate.patient_press``), the quick way: one's own
booking passes, another patient's booking or request is "not found" with the way back and
nothing changes, and a malformed or forged press meets the catch-all before any step runs.

These presses were tried only over the sandbox's HTTP before (``tests/bot/
test_robustness_callbacks.py``, ``test_appointments.py``); here they take milliseconds."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from bot.handlers import open_requests
from bot.handlers.common import SORRY, STALE
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.errors import ClinicError, NotFound
from clinic.models import Booking, Device, Exam, Platform, Referral, WaitlistEntry
from clinic.patients import link_chat_account
from clinic.referrals import ReferralRequest, screening_for, submit_referral
from clinic.text import to_persian_digits
from tests.factories import add_patient, approved_referral
from tests.handlers.offline import OfflineBot, OfflineChat, answers, inline_buttons, shown

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import ClinicEnv

OWNER, OTHER, STRANGER = 8301, 8302, 8303
BOOKING_BUTTONS = ("appt", "cx", "cxok", "mv", "wl", "prep")


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No test here may end in an error logged (the apology's cause)."""
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def _linked(env: ClinicEnv, user_id: int, n: int) -> int:
    """Patient ``n``, registered in the chat of ``user_id``."""
    async with env.uow() as uow:
        patient = await add_patient(uow, n)
        await link_chat_account(uow, patient, Platform.TELEGRAM, user_id, user_id)
        await uow.commit()
    return patient


async def _booked(env: ClinicEnv, patient: int) -> Booking:
    """A confirmed chest X-ray of ``patient`` on the first working morning three days on."""
    async with env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "XR-CHEST"))
        device = await uow.session.scalar(select(Device.id).where(Device.code == "XR-1"))
        assert exam is not None and device is not None
        referral = await approved_referral(uow, patient, exam)
        starts = uow.clock.now().replace(hour=4, minute=0, second=0, microsecond=0)
        for day in range(3, 12):
            try:
                held = await hold_slot(
                    uow, Actor.patient(patient), referral, device, starts + timedelta(days=day)
                )
                break
            except ClinicError:  # a closed or full morning: the next day
                await uow.rollback()
        else:
            pytest.fail("no free morning")
        booking = await confirm_booking(uow, Actor.patient(patient), held.id)
        await uow.commit()
    return booking


async def _waiting_request(env: ClinicEnv, patient: int) -> int:
    """An MRI request of ``patient`` waiting for review."""
    async with env.uow() as uow:
        mri = await uow.session.scalar(select(Exam).where(Exam.code == "MRI-BRAIN"))
        assert mri is not None
        questions = await screening_for(uow, mri.id, patient)
        answers = {q.code: q.blocking_answer is False for q in questions}
        request = ReferralRequest(patient, mri.id, "tamin", answers, tracking_code="555666777")
        referral = await submit_referral(uow, Actor.patient(patient), request)
        await uow.commit()
    return referral.id


async def _unchanged(env: ClinicEnv, booking: Booking) -> None:
    async with env.uow() as uow:
        after = await uow.session.get(Booking, booking.id)
        assert after is not None
        assert (after.status, after.starts_at) == ("confirmed", booking.starts_at)
        assert await uow.session.scalar(select(func.count(WaitlistEntry.id))) == 0
        others = await uow.session.scalar(
            select(func.count(Booking.id)).where(Booking.referral_id == booking.referral_id)
        )
        assert others == 1  # no hold on their referral either


def _not_found(chat: OfflineChat) -> str:
    return NotFound().render(chat._, persian_digits=True)


async def test_ones_own_booking_passes_the_gate(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    booking = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 1))
    owner = bot.chat(OWNER)
    card = await owner.press(f"appt:{booking.id}")
    assert answers(card) == [None]
    [text] = shown(card)
    assert to_persian_digits(booking.code) in text
    assert (owner._(appt.CANCEL), f"cx:{booking.id}") in inline_buttons(card)
    asked = await owner.press(f"cx:{booking.id}")
    assert (owner._(appt.YES_CANCEL), f"cxok:{booking.id}") in inline_buttons(asked)
    await _unchanged(sqlite_env, booking)  # asking changes nothing


async def test_another_patients_booking_is_not_found_and_nothing_changes(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    booking = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 2))
    await _linked(sqlite_env, OTHER, 3)
    other = bot.chat(OTHER)
    back = (other._(appt.TO_LIST), "appts")
    day = f"{booking.starts_at + timedelta(days=-1):%Y%m%d}"
    for data in [*(f"{b}:{booking.id}" for b in BOOKING_BUTTONS), f"wlj:{booking.id}:{day}"]:
        calls = await other.press(data)
        assert (data, answers(calls), shown(calls)) == (data, [None], [_not_found(other)])
        assert inline_buttons(calls) == [back], data
    await _unchanged(sqlite_env, booking)
    assert other._(SORRY) not in bot.api.texts()
    assert to_persian_digits(booking.code) not in "\n".join(bot.api.texts())


async def test_another_patients_request_is_not_found_and_stays(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    referral = await _waiting_request(sqlite_env, await _linked(sqlite_env, OWNER, 4))
    await _linked(sqlite_env, OTHER, 5)
    other = bot.chat(OTHER)
    for data in (f"rq:{referral}", f"rqx:{referral}", f"rqxok:{referral}"):
        calls = await other.press(data)
        assert shown(calls) == [_not_found(other)], data
        assert inline_buttons(calls) == [(other._(open_requests.TO_LIST), "appts")], data
    async with sqlite_env.uow() as uow:
        row = await uow.session.get(Referral, referral)
        assert row is not None and row.status == "submitted"


MALFORMED = [
    "appt",  # no id
    "appt:abc",
    "appt:-1",
    "appt:99999999999",  # beyond any 32-bit id: never reaches a query
    "appt:1:2",  # one argument too many
    "appts:1:2",  # a list is the holder's or one family member's, never two
    "appts:x",
    "cxok:1.0",
    "wlj:{id}",  # no day
    "wlj:{id}:20261399",  # no such day
    "wlj:{id}:1",
    "rqxok:x",
    "days:ref:abc:0",
    "days:xx:{id}:0",  # neither a referral nor a booking
    "day:bk:{id}:99999999",
    "day:bk:{id}:00010101",
    "hold:bk:{id}:1:000101010000",
    "hold:bk:{id}:1:210001010000",  # a year no button carries
    "day",
]


async def test_a_malformed_press_meets_the_catch_all_and_changes_nothing(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    booking = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 6))
    owner = bot.chat(OWNER)  # even on their own booking: the step never runs
    for data in (d.format(id=booking.id) for d in MALFORMED):
        calls = await owner.press(data)
        assert (data, answers(calls), shown(calls)) == (data, [owner._(STALE)], [])
    await _unchanged(sqlite_env, booking)


async def test_someone_not_registered_is_told_to_start(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    booking = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 7))
    stranger = bot.chat(STRANGER)
    for data in (f"appt:{booking.id}", "appts", f"days:bk:{booking.id}:0", f"rq:{booking.id}"):
        calls = await stranger.press(data)
        assert shown(calls) == [stranger._(bk.NEED_LOGIN)], data
    await _unchanged(sqlite_env, booking)


async def test_forged_booking_steps_on_another_patients_records_find_nothing(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    theirs = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 8))
    await _linked(sqlite_env, OTHER, 9)
    other = bot.chat(OTHER)
    day = f"{theirs.starts_at:%Y%m%d}"
    moment = f"{theirs.starts_at + timedelta(hours=3, minutes=40):%Y%m%d%H%M}"  # Tehran, later
    forged = [
        f"days:ref:{theirs.referral_id}:0",
        f"day:ref:{theirs.referral_id}:{day}",
        f"hold:ref:{theirs.referral_id}:{theirs.device_id}:{moment}",
        f"days:bk:{theirs.id}:0",
        f"day:bk:{theirs.id}:{day}",
        f"hold:bk:{theirs.id}:{theirs.device_id}:{moment}",
        f"ok:{theirs.id}",
        f"appts:{theirs.patient_id}",  # their list (the account acts for no family member)
        f"resfor:{theirs.patient_id}",  # their results
    ]
    for data in forged:
        calls = await other.press(data)
        assert shown(calls) == [_not_found(other)], data
    await _unchanged(sqlite_env, theirs)
    assert to_persian_digits(theirs.code) not in "\n".join(bot.api.texts())
    async with sqlite_env.uow() as uow:
        held = await uow.session.scalar(
            select(func.count(Booking.id)).where(Booking.status == "held")
        )
    assert held == 0


async def test_a_malformed_confirm_or_language_is_answered_and_ignored(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    booking = await _booked(sqlite_env, await _linked(sqlite_env, OWNER, 10))
    owner = bot.chat(OWNER)
    for data in ("ok", "ok:-1", "ok:abc", "ok:99999999999", "lang:xx"):
        calls = await owner.press(data)
        assert (data, answers(calls), shown(calls)) == (data, [None], [])
    await _unchanged(sqlite_env, booking)
