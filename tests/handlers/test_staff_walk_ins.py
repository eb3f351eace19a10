"""Walk-ins in the bot (``bot.staff.walk_ins``), the quick way: a ticket from the national code
(only walk-in exams offered), how many are ahead, each device's queue today (from the staff
menu and the day list), and the patient's own card showing their place in the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.staff import daylist, desk, menu, walk_ins
from bot.views import STATUS
from clinic.jalali import format_date, to_tehran
from clinic.models import Booking, BookingStatus, Device, Exam, Platform
from clinic.patients import link_chat_account
from clinic.walk_ins import WalkInRequest, issue_ticket
from tests.factories import RECEPTION, national_code
from tests.handlers.offline import shown
from tests.handlers.staff_chat import bookings, buttons, code, exam_id, member, patient, tap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Call, OfflineBot, OfflineChat

CLERK, PATIENT_CHAT = 8601, 8602


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def _ticket(clerk: OfflineChat, n: int) -> list[Call]:
    """Patient ``n``'s chest X-ray ticket, the paper prescription in hand."""
    calls = await tap(clerk, await clerk.say("/staff"), menu.ITEMS[10][1])
    assert shown(calls) == [clerk._(desk.ASK_CODE_WALK_IN)]
    calls = await clerk.say(code(n))
    assert shown(calls)[-1].endswith(clerk._(desk.CHOOSE_WALK_IN))
    calls = await tap(clerk, calls, "رادیوگرافی قفسه سینه")
    calls = await tap(clerk, calls, "Salamat (Iran Health Insurance)")
    return await tap(clerk, calls, desk.PAPER)


async def test_walk_in_tickets_count_up_and_the_queue_shows_them(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    first, second = await patient(sqlite_env, 1), await patient(sqlite_env, 2)
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)

    calls = await _ticket(clerk, 1)
    [one] = await bookings(sqlite_env, first)
    assert (one.status, one.channel, one.ticket) == ("checked_in", "walk_in", 1)
    text = shown(calls)[-1]
    assert text.startswith(clerk._(walk_ins.TICKET).split("{")[0] + "۱")
    assert clerk._(walk_ins.NONE_AHEAD) in text

    calls = await _ticket(clerk, 2)
    [two] = await bookings(sqlite_env, second)
    ahead = 1 if two.device_id == one.device_id else 0
    text = shown(calls)[-1]
    if ahead:
        assert two.ticket == 2 and clerk._(walk_ins.AHEAD).format(n="۱") in text
    else:
        assert two.ticket == 1 and clerk._(walk_ins.NONE_AHEAD) in text

    calls = await tap(clerk, calls, walk_ins.SEE_QUEUE)
    queue = shown(calls)[-1]
    today = format_date(to_tehran(sqlite_env.clock.now()).date(), "fa")
    assert today in queue and "علی رضایی" in queue
    assert clerk._(walk_ins.WAITING) in queue
    assert queue.count(clerk._(walk_ins.WAITING)) == 1 + ahead
    waiting = clerk._(walk_ins.WAITING)
    row = walk_ins.ROW.format(number="۱", patient="علی رضایی", status=waiting)
    assert row in queue


async def test_only_walk_in_exams_are_offered_and_others_refused(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    pid = await patient(sqlite_env, 3)
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    await clerk.press("swk")
    calls = await clerk.say(national_code(3))
    async with sqlite_env.uow() as uow:
        walk_in = set(await uow.session.scalars(select(Exam.id).where(Exam.walk_in)))
    offered = {int(d.split(":")[1]) for d in buttons(calls).values() if d.startswith("sde:")}
    assert offered and offered <= walk_in
    mri = await exam_id(sqlite_env, "MRI-BRAIN")
    calls = await clerk.press(f"sde:{mri}")  # an old or forged button
    assert shown(calls) == [
        clerk._("This exam is given by appointment, not in the walk-in queue.")
    ]
    assert await bookings(sqlite_env, pid) == []


async def test_the_queue_from_the_menu_and_the_day_list(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    async with sqlite_env.uow() as uow:
        xr = await uow.session.scalar(select(Device.id).where(Device.code == "XR-1"))
        ct = await uow.session.scalar(select(Device.id).where(Device.code == "CT-1"))
    calls = await tap(clerk, await clerk.say("/staff"), menu.ITEMS[11][1])
    assert shown(calls) == [clerk._(walk_ins.CHOOSE_DEVICE)]
    assert f"sq:{xr}" in buttons(calls).values() and f"sq:{ct}" not in buttons(calls).values()
    calls = await clerk.press(f"sq:{xr}")
    assert shown(calls)[-1].startswith(clerk._(walk_ins.EMPTY).split("{")[0])

    # The day list offers the queue once the device has a walk-in today.
    assert clerk._(daylist.QUEUE) not in buttons(await clerk.press(f"sdl:{xr}"))
    await patient(sqlite_env, 6)
    async with sqlite_env.uow() as uow:
        request = WalkInRequest(national_code(6), "XR-CHEST", "none", {}, device_code="XR-1")
        await issue_ticket(uow, RECEPTION, request)
        await uow.commit()
    assert buttons(await clerk.press(f"sdl:{xr}"))[clerk._(daylist.QUEUE)] == f"sq:{xr}"
    assert clerk._(daylist.QUEUE) not in buttons(await clerk.press(f"sdl:{ct}"))
    queue = shown(await clerk.press(f"sq:{xr}"))[-1]
    assert queue.startswith(clerk._(walk_ins.QUEUE).split("{")[0]) and "علی رضایی" in queue


async def test_the_patient_sees_their_place_in_the_queue(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    ahead_of_them, pid = await patient(sqlite_env, 4), await patient(sqlite_env, 5)
    async with sqlite_env.uow() as uow:
        await link_chat_account(uow, pid, Platform.TELEGRAM, PATIENT_CHAT, PATIENT_CHAT)
        for n in (4, 5):
            request = WalkInRequest(national_code(n), "XR-CHEST", "none", {}, device_code="XR-1")
            await issue_ticket(uow, RECEPTION, request)
        await uow.commit()
        mine = await uow.session.scalar(select(Booking).where(Booking.patient_id == pid))
    assert mine is not None and ahead_of_them
    me = bot.chat(PATIENT_CHAT)
    text = shown(await me.press(f"appt:{mine.id}"))[-1]
    assert text.startswith("🎫") and "۲" in text.split("\n")[0] and "۱" in text.split("\n")[0]
    assert me._(STATUS["checked_in"]) in text

    async with sqlite_env.uow() as uow:  # the one ahead is done: the patient is next
        first = await uow.session.scalar(
            select(Booking).where(Booking.patient_id == ahead_of_them)
        )
        assert first is not None
        first.status = BookingStatus.COMPLETED
        await uow.commit()
    text = shown(await me.press(f"appt:{mine.id}"))[-1]
    assert text.split("\n")[0] == me._("🎫 Ticket {number} — you are next").format(number="۲")
