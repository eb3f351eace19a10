"""Reception books for a patient in the bot (``bot.staff.desk``), the quick way: the national
code typed (Persian digits, a mistyped one asked again), the exam by modality, the insurer,
the prescription, each safety question this patient is asked, desk or phone, the first free
time or one chosen; a blocking answer books nothing; a patient blocked for no-shows is shown
it and the block can be lifted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from bot import request_steps
from bot.drafts import DESK, STAFF_INPUT
from bot.staff import desk, desk_draft, desk_times, menu
from clinic.desk import questions_for_patient
from clinic.errors import InvalidNationalCode
from clinic.jalali import format_time
from clinic.models import AuditEntry, Booking, OutboxMessage, Patient, Referral
from clinic.text import to_persian_digits
from tests.factories import national_code
from tests.handlers.offline import shown
from tests.handlers.staff_chat import (
    bookings,
    buttons,
    code,
    exam_id,
    member,
    patient,
    tap,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Call, OfflineBot, OfflineChat

CLERK = 8501


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def _state(bot: OfflineBot, chat: OfflineChat) -> dict[str, object]:
    return dict(bot.application.user_data.get(chat.user_id) or {})


async def _clerk(bot: OfflineBot, env: ClinicEnv) -> OfflineChat:
    await member(env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    calls = await clerk.say("/staff")
    assert clerk._(menu.ITEMS[9][1]) in buttons(calls)  # "Book for a patient"
    return clerk


async def _answer_all(clerk: OfflineChat, calls: list[Call], *, yes: bool = False) -> list[Call]:
    """Answer every safety question shown, one after another, all no (or all yes)."""
    while clerk._(desk.QUESTION).split("\n")[0] in shown(calls)[-1]:
        calls = await tap(clerk, calls, request_steps.YES if yes else request_steps.NO)
    return calls


async def test_a_phone_booking_from_the_national_code_to_the_card(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    pid = await patient(sqlite_env, 1, sex="female", year=1370)
    clerk = await _clerk(bot, sqlite_env)
    calls = await tap(clerk, await clerk.say("/staff"), menu.ITEMS[9][1])
    assert shown(calls) == [clerk._(desk.ASK_CODE)]

    # A mistyped code and an unknown one are said kindly and asked again; nothing is lost.
    assert shown(await clerk.say("۱۲۳۴")) == [clerk._(InvalidNationalCode.message)]
    assert shown(await clerk.say(national_code(40))) == [clerk._(desk.NO_PATIENT)]
    calls = await clerk.say(code(1))  # Persian digits
    card = shown(calls)[-1]
    assert "علی رضایی" in card and to_persian_digits("1370") in card
    assert clerk._(desk.CHOOSE_MODALITY) in card
    assert DESK.key in _state(bot, clerk) and national_code(1) not in str(_state(bot, clerk))

    calls = await tap(clerk, calls, "MRI")
    calls = await tap(clerk, calls, "ام‌آر‌آی مغز")
    assert shown(calls) == [clerk._(desk.ASK_INSURER)]
    calls = await tap(clerk, calls, "Tamin Ejtemaei (social security)")
    assert shown(calls) == [clerk._(desk.ASK_PRESCRIPTION)]
    refused = shown(await clerk.say("؟"))[0]
    assert "۴" in refused  # "4 to 20 digits or letters", asked again
    calls = await clerk.say("۹۸۷۶۵۴۳۲۱")

    async with sqlite_env.uow() as uow:
        asked = await questions_for_patient(uow, national_code(1), "MRI-BRAIN")
    assert "pregnancy" in {q.code for q in asked}  # a woman of 35 is asked
    seen = []
    while clerk._(desk.QUESTION).split("\n")[0] in shown(calls)[-1]:
        seen.append(shown(calls)[-1])
        calls = await tap(clerk, calls, request_steps.NO)
    assert len(seen) == len(asked)
    assert [q.text_fa in s for q, s in zip(asked, seen, strict=True)] == [True] * len(asked)

    assert shown(calls) == [clerk._(desk_times.CHOOSE_CHANNEL)]
    calls = await tap(clerk, calls, desk_times.CHANNELS["phone"])
    assert shown(calls) == [clerk._(desk_times.CHOOSE_WHEN)]
    calls = await tap(clerk, calls, desk_times.FIRST)

    [booking] = await bookings(sqlite_env, pid)
    assert (booking.status, booking.channel) == ("confirmed", "phone")
    text = shown(calls)[-1]
    assert text.startswith(clerk._(desk_times.BOOKED).split("\n")[0])
    assert to_persian_digits(booking.code) in text
    assert format_time(booking.starts_at, "fa") in text and "ام‌آر‌آی ۱٫۵ تسلا" in text
    async with sqlite_env.uow() as uow:
        referral = await uow.session.get(Referral, booking.referral_id)
        assert referral is not None and referral.tracking_code == "987654321"
        told = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.booking_id == booking.id)
        )
    assert told  # the patient hears of it the usual way
    assert DESK.key not in _state(bot, clerk) and STAFF_INPUT.key not in _state(bot, clerk)


async def test_a_day_and_time_chosen_at_the_desk_with_the_paper_prescription(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    pid = await patient(sqlite_env, 2)  # a man: the chest X-ray asks him nothing
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("sdb")
    calls = await clerk.say(national_code(2))
    calls = await tap(clerk, calls, "Radiography (X-ray)")
    calls = await tap(clerk, calls, "رادیوگرافی قفسه سینه")
    calls = await tap(clerk, calls, "No insurance")
    calls = await tap(clerk, calls, desk.PAPER)
    assert shown(calls) == [clerk._(desk_times.CHOOSE_CHANNEL)]  # no question for him
    calls = await tap(clerk, calls, desk_times.CHANNELS["desk"])
    calls = await tap(clerk, calls, desk_times.PICK_DAY)
    assert shown(calls) == [clerk._(desk_times.CHOOSE_DAY)]
    day_data = next(d for d in buttons(calls).values() if d.startswith("sddy:"))
    calls = await clerk.press(day_data)
    assert shown(calls)[-1].startswith(clerk._(desk_times.CHOOSE_TIME).split("{")[0])
    label, data = next((t, d) for t, d in buttons(calls).items() if d.startswith("sdt:"))
    # A time the device does not work (an old or forged button): refused kindly, the day's
    # free times again, nothing booked.
    night = data[: -len("HHMM")] + "0300"
    refused = await clerk.press(night)
    assert clerk._(desk_times.CHOOSE_TIME).split("{")[0] in shown(refused)[-1]
    assert data in buttons(refused).values()
    assert await bookings(sqlite_env, pid) == []
    calls = await clerk.press(data)

    [booking] = await bookings(sqlite_env, pid)
    assert (booking.status, booking.channel) == ("confirmed", "desk")
    assert format_time(booking.starts_at, "fa") == label
    assert to_persian_digits(booking.code) in shown(calls)[-1]
    async with sqlite_env.uow() as uow:
        referral = await uow.session.get(Referral, booking.referral_id)
    assert referral is not None and referral.source == "paper" and referral.status == "approved"


async def test_a_blocking_answer_books_nothing(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    pid = await patient(sqlite_env, 3, sex="female", year=1375)
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("sdb")
    calls = await clerk.say(national_code(3))
    xray = await exam_id(sqlite_env, "XR-CHEST")
    await clerk.press("sdm:CR")
    await clerk.press(f"sde:{xray}")
    await clerk.press("sdi:salamat")
    calls = await clerk.say("123456789")
    assert "باردار" in shown(calls)[-1]
    calls = await _answer_all(clerk, calls, yes=True)
    assert shown(calls) == [clerk._(desk.ANSWER_BLOCKS)]
    assert await bookings(sqlite_env, pid) == []
    assert DESK.key not in _state(bot, clerk)
    # The old buttons of that booking only say it is no longer open.
    assert shown(await clerk.press("sdf")) == [clerk._(desk_draft.STALE)]
    assert await bookings(sqlite_env, pid) == []


async def test_a_patient_blocked_for_no_shows_is_shown_it_and_the_block_lifted(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    pid = await patient(sqlite_env, 4)
    async with sqlite_env.uow() as uow:
        await uow.session.execute(update(Patient).where(Patient.id == pid).values(no_shows=3))
        await uow.commit()
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("sdb")
    calls = await clerk.say(national_code(4))
    blocked = clerk._(desk_draft.BLOCKED).format(count="۳")
    assert blocked in shown(calls)[-1]
    calls = await tap(clerk, calls, desk.LIFT)
    text = shown(calls)[-1]
    assert text.startswith(clerk._(desk.LIFTED)) and blocked not in text
    assert clerk._(desk.LIFT) not in buttons(calls)
    assert clerk._(desk.CHOOSE_MODALITY) in text  # and the booking goes on
    async with sqlite_env.uow() as uow:
        forgiven = await uow.session.get(Patient, pid)
        audited = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "patient.no_shows_forgiven", AuditEntry.entity_id == pid
            )
        )
    assert forgiven is not None and forgiven.no_shows_forgiven == 3 and audited == 1


async def test_the_desk_is_reception_s_only(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    await patient(sqlite_env, 5)
    await member(sqlite_env, CLERK + 1, "broadcaster")
    other = bot.chat(CLERK + 1)
    assert other._(menu.ITEMS[9][1]) not in buttons(await other.say("/staff"))
    calls = await other.press("sdb")
    assert shown(calls) == []  # as if never offered
    async with sqlite_env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Booking.id))) == 0
