"""Reception runs the desk through the bot, end to end over the sandbox's Bot API: a booking for
a patient who phoned (national code, exam, insurer, tracking code, safety questions, a day and
time), and two walk-ins in a device's queue today, as reception sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot import request_steps
from bot.staff import desk, desk_times, menu, walk_ins
from clinic.actors import Actor
from clinic.jalali import format_date, format_time, to_tehran
from clinic.models import AuditEntry, Booking, OutboxMessage
from clinic.staff import add_staff
from clinic.text import to_persian_digits
from tests.bot.harness import Chat, Harness, assert_calm
from tests.factories import add_patient, national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

CLERK = 7101


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _clerk(harness: Harness) -> Chat:
    async with harness.env.uow() as uow:
        await add_staff(
            uow, Actor.system(), full_name="پذیرش", roles=("reception",), telegram_user_id=CLERK
        )
        await uow.commit()
    return harness.user(CLERK)


async def _patients(harness: Harness, *numbers: int, sex: str = "male") -> list[int]:
    async with harness.env.uow() as uow:
        ids = [await add_patient(uow, n, sex=sex, birth_year=1365) for n in numbers]
        await uow.commit()
    return ids


async def _booking_of(harness: Harness, patient_id: int) -> Booking:
    async with harness.env.uow() as uow:
        found = await uow.session.scalar(select(Booking).where(Booking.patient_id == patient_id))
    assert found is not None
    return found


async def test_a_phone_booking_at_a_time_chosen(harness: Harness) -> None:
    [pid] = await _patients(harness, 1, sex="female")
    clerk = await _clerk(harness)
    await clerk.command("staff")
    await clerk.press_msgid(menu.ITEMS[9][1])
    assert clerk.last_text() == clerk._(desk.ASK_CODE)
    await clerk.say("۰۴۹۹۳۷۰۸۹۸")  # one digit wrong: the check digit fails
    invalid = "The national code must be 10 digits with a valid check digit."
    assert clerk.last_text() == clerk._(invalid)
    await clerk.say(to_persian_digits(national_code(1)))
    assert "علی رضایی" in clerk.last_text() and "۱۳۶۵" in clerk.last_text()

    await clerk.press_msgid("CT scan")
    await clerk.press("سی‌تی‌اسکن مغز بدون تزریق")
    await clerk.press_msgid("Tamin Ejtemaei (social security)")
    assert clerk.last_text() == clerk._(desk.ASK_PRESCRIPTION)
    await clerk.say("۱۱۲۲۳۳۴۴۵۵")
    asked = 0
    while clerk._(desk.QUESTION).split("\n")[0] in clerk.last_text():
        await clerk.press_msgid(request_steps.NO)
        asked += 1
    assert asked >= 1  # a woman of 40 is asked whether she might be pregnant
    assert clerk.last_text() == clerk._(desk_times.CHOOSE_CHANNEL)
    await clerk.press_msgid(desk_times.CHANNELS["phone"])
    await clerk.press_msgid(desk_times.PICK_DAY)
    assert clerk.last_text() == clerk._(desk_times.CHOOSE_DAY)
    second_day = clerk.buttons()[1]
    await clerk.press(second_day)
    chosen = clerk.buttons()[2]  # the third free time of that day
    await clerk.press(chosen)

    booking = await _booking_of(harness, pid)
    assert (booking.status, booking.channel) == ("confirmed", "phone")
    card = clerk.last_text()
    assert card.startswith(clerk._(desk_times.BOOKED).split("\n")[0])
    assert format_time(booking.starts_at, "fa") == chosen
    assert format_date(to_tehran(booking.starts_at).date(), "fa") in card
    assert to_persian_digits(booking.code) in card and "اتاق ۱۰۴" in card
    assert clerk.buttons()[0] == clerk._(desk_times.OPEN)
    async with harness.env.uow() as uow:
        told = await uow.session.scalar(
            select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)
        )
    assert told == "booking_confirmed"
    # Finding the patient by national code at the desk is a look at their record: audited.
    assert await _reads(harness, "patient.read") == [{"via": "desk"}]


async def _reads(harness: Harness, action: str) -> list[dict[str, object]]:
    """The details of the audit entries of ``action``, oldest first."""
    async with harness.env.uow() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [dict(r.details) for r in rows]


async def test_two_walk_ins_and_the_queue(harness: Harness) -> None:
    first, second = await _patients(harness, 2, 3)
    clerk = await _clerk(harness)
    for n in (2, 3):
        await clerk.command("staff")
        await clerk.press_msgid(menu.ITEMS[10][1])
        await clerk.say(national_code(n))
        assert clerk.last_text().endswith(clerk._(desk.CHOOSE_WALK_IN))
        await clerk.press("رادیوگرافی زانو")
        await clerk.press_msgid("No insurance")
        await clerk.press_msgid(desk.PAPER)
    one, two = await _booking_of(harness, first), await _booking_of(harness, second)
    ticket = clerk.last_text()
    assert ticket.startswith(clerk._(walk_ins.TICKET).split("{")[0])
    assert to_persian_digits(str(two.ticket)) in ticket.split("\n")[0]

    await clerk.press_msgid(walk_ins.SEE_QUEUE)
    queue = clerk.last_text().split("\n")
    waiting = clerk._(walk_ins.WAITING)
    rows = [line for line in queue[1:] if waiting in line]
    assert len(rows) == (2 if one.device_id == two.device_id else 1)
    assert rows[-1].startswith(to_persian_digits(str(two.ticket)) + ".")
    assert all("علی رضایی" in row for row in rows)
    await clerk.press_msgid(walk_ins.REFRESH)
    assert clerk.last_text().split("\n") == queue  # nothing changed meanwhile
    # Each look at the queue (names on it) is audited, as is each desk find.
    queue_reads = await _reads(harness, "walk_in_queue.read")
    assert len(queue_reads) == 2 and all("day" in r for r in queue_reads)
    assert await _reads(harness, "patient.read") == [{"via": "desk"}] * 2
