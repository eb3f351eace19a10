"""The results desk in the bot (``bot.staff.results_desk``), the quick way: a pickup code typed
shows whose report it is (the masked national code to compare with the ID card), then it is
handed over to the patient or to someone they sent (the note typed); a wrong code says only
that, and may be typed again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.drafts import STAFF_INPUT
from bot.staff import menu, results_desk
from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.booking import confirm_booking, hold_slot
from clinic.codes import _luhn_digit, parse_code
from clinic.daylist import check_in
from clinic.handover import NoSuchPickupCode, PickupPaused
from clinic.identity import mask_national_code
from clinic.jalali import format_datetime
from clinic.models import AuditEntry, Exam, Report, ReportStatus
from clinic.reports import ReportEvent, report_event
from clinic.text import to_persian_digits
from tests.factories import RECEPTION, add_patient, approved_referral, national_code
from tests.handlers.offline import shown
from tests.handlers.staff_chat import buttons, member, tap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import ClinicEnv
    from tests.handlers.offline import OfflineBot, OfflineChat

CLERK = 8701


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def _report(env: ClinicEnv, n: int, accession: str, *, final: bool = True) -> Report:
    """Patient ``n`` booked for a CT, admitted with ``accession``, the report final (or not)."""
    async with env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "CT-BRAIN"))
        assert exam is not None
        pid = await add_patient(uow, n, birth_year=1362)
        referral = await approved_referral(uow, pid, exam)
        day = (await bookable_days(uow, exam.id))[0].day
        free = (await bookable_times(uow, exam.id, day))[0]
        me = Actor.patient(pid)
        held = await hold_slot(uow, me, referral, free.device_id, free.starts_at)
        booking = await confirm_booking(uow, me, held.id)
        await check_in(uow, RECEPTION, booking.id, accession_number=accession)
        if final:
            await report_event(
                uow, source="his", accession_number=accession, kind=ReportEvent.FINAL,
                occurred_at=env.clock.now(),
            )  # fmt: skip
        await uow.commit()
        report = await uow.session.scalar(select(Report).where(Report.booking_id == booking.id))
    assert report is not None and report.pickup_code
    return report


async def _clerk(bot: OfflineBot, env: ClinicEnv) -> OfflineChat:
    await member(env, CLERK, "reception")
    return bot.chat(CLERK)


async def test_a_report_handed_over_to_the_patient(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    report = await _report(sqlite_env, 1, "ACC-2001")
    clerk = await _clerk(bot, sqlite_env)
    calls = await tap(clerk, await clerk.say("/staff"), menu.ITEMS[12][1])
    assert shown(calls) == [clerk._(results_desk.ASK_CODE)]
    calls = await clerk.say(to_persian_digits(report.pickup_code))
    card = shown(calls)[-1]
    assert "علی رضایی" in card and to_persian_digits("1362") in card
    assert to_persian_digits(mask_national_code(national_code(1))) in card
    assert national_code(1) not in card and to_persian_digits(national_code(1)) not in card
    assert clerk._(results_desk.STATUSES[ReportStatus.FINAL]) in card

    calls = await tap(clerk, calls, results_desk.TO_PATIENT)
    whom = clerk._(results_desk.WHOM["patient"])
    assert shown(calls) == [clerk._(results_desk.HANDED).format(whom=whom)]
    async with sqlite_env.uow() as uow:
        stored = await uow.session.get(Report, report.id)
    assert stored is not None and stored.collected_to == "patient"

    # Looked up again: collected, and no button hands it over twice.
    await clerk.press("spu")
    calls = await clerk.say(report.pickup_code)
    assert clerk._(results_desk.COLLECTED).split("{")[0] in shown(calls)[-1]
    assert clerk._(results_desk.TO_PATIENT) not in buttons(calls)


async def test_someone_the_patient_sent_collects_it_with_a_note(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    report = await _report(sqlite_env, 2, "ACC-2002")
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("spu")
    calls = await clerk.say(report.pickup_code)
    calls = await tap(clerk, calls, results_desk.TO_PROXY)
    assert shown(calls) == [clerk._(results_desk.ASK_NOTE)]
    note = "مریم رضایی، خواهر بیمار، کارت ملی"
    calls = await clerk.say(note)
    whom = clerk._(results_desk.WHOM["proxy"])
    assert shown(calls) == [clerk._(results_desk.HANDED).format(whom=whom)]
    async with sqlite_env.uow() as uow:
        stored = await uow.session.get(Report, report.id)
    assert stored is not None and (stored.collected_to, stored.collected_note) == ("proxy", note)
    assert STAFF_INPUT.key not in dict(bot.application.user_data.get(CLERK) or {})


async def test_a_wrong_code_says_only_that_and_may_be_typed_again(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    report = await _report(sqlite_env, 3, "ACC-2003", final=False)
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("spu")
    wrong = "123455" if report.pickup_code != "123455" else "234567"
    for typed in (wrong, "ab", "۱۲"):
        assert shown(await clerk.say(typed)) == [clerk._(NoSuchPickupCode.message)]
    calls = await clerk.say(report.pickup_code)  # still waiting for a code
    card = shown(calls)[-1]
    assert (
        clerk._(results_desk.STATUSES[ReportStatus.IMAGES_READY]) in card
        or clerk._(results_desk.STATUSES[ReportStatus.PENDING]) in card
    )
    assert clerk._(results_desk.TO_PATIENT) not in buttons(calls)  # not final: not handed over
    async with sqlite_env.uow() as uow:
        looked_up = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "report.pickup_lookup")
        )
    assert looked_up == 4  # every look-up is audited, found or not


async def test_too_many_codes_that_match_nothing_pause_the_desk_account(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    report = await _report(sqlite_env, 4, "ACC-2004")
    clerk = await _clerk(bot, sqlite_env)
    await clerk.press("spu")
    bodies = (str(n) for n in range(10000, 10010))
    guesses = [c for b in bodies if (c := b + _luhn_digit(b)) != report.pickup_code][:5]
    assert all(parse_code(c) for c in guesses)  # each a real guess: the check digit is right
    for typed in guesses[:4]:
        assert shown(await clerk.say(typed)) == [clerk._(NoSuchPickupCode.message)]
    until = format_datetime(sqlite_env.clock.now() + sqlite_env.policy.link.lockout, "fa")
    paused = clerk._(PickupPaused.message).format(until=until)
    assert shown(await clerk.say(guesses[4])) == [paused]
    await clerk.press("spu")
    assert shown(await clerk.say(report.pickup_code)) == [paused]  # nothing is looked up
    async with sqlite_env.uow() as uow:
        details = list(
            await uow.session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "report.pickup_lookup")
            )
        )
    assert details[-2:] == [{"found": False, "paused": True}] * 2
