"""SMS when chat keeps failing (issue 14, part 2): with the platform down for hours (the Bot
API sandbox answering 502 or refusing connections, on a frozen clock), each notice goes by SMS
once its time is up and before it would be too late, never by both channels; a reminder that
could not go while it was of use is recorded as expired, sent by neither."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from telegram import Bot

from bot.aiohttp_request import AiohttpRequest
from clinic.jalali import TEHRAN
from clinic.models import OutboxMessage, Platform
from notifier.channels import ChatChannel
from tests.notifier.test_dispatch import _booked

if TYPE_CHECKING:
    from tests.notifier.conftest import World

USER = 5101
MOBILE = "09120000000"  # patient 0's
SUNDAY, MONDAY = 29, 30  # of November 2026: the booking is on Monday at 09:00


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TEHRAN)


async def _rows(world: World) -> dict[str, OutboxMessage]:
    async with world.env.uow() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        found: dict[str, OutboxMessage] = {}
        for row in rows:
            key = row.kind if row.kind != "reminder" else f"reminder {row.params.get('hours')}"
            found[key] = row
        return found


async def _live_through(world: World, moments: list[datetime]) -> None:
    for moment in moments:
        world.env.clock.set(moment)
        await world.drain()


async def _run_until(world: World, start: datetime, end: datetime) -> None:
    """The worker as it runs, every row tried when it is due: the clock jumps from one due
    row to the next (a second at least), up to ``end``."""
    world.env.clock.set(start)
    while True:
        await world.drain()
        async with world.env.uow() as uow:
            due = await uow.session.scalar(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status == "pending")
                .order_by(OutboxMessage.next_attempt_at)
                .limit(1)
            )
        now = world.env.clock.now()
        if due is None or due > end:
            return
        world.env.clock.set(max(due, now + timedelta(seconds=1)))


def _every(start: datetime, end: datetime, minutes: int) -> list[datetime]:
    moments = []
    while start <= end:
        moments.append(start)
        start += timedelta(minutes=minutes)
    return moments


async def test_thirty_hours_without_chat_every_notice_goes_by_sms_once(world: World) -> None:
    world.chat.create_user(USER, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=USER)  # Sunday 08:00: Monday 09:00 on CT
        await uow.commit()
    world.chat.outage = 502  # from now until Monday afternoon
    await _run_until(world, at(SUNDAY, 8), at(MONDAY, 10))
    rows = await _rows(world)
    assert [m for m in world.chat.messages_to(USER) if m.from_bot] == []
    assert len(world.sms.inbox(MOBILE)) == 3  # the confirmation and two reminders, once each
    confirmation = rows["booking_confirmed"]
    assert (confirmation.status, confirmation.channel) == ("sent", "sms")
    assert confirmation.sent_at is not None
    # An hour after it was due, to the minute: the retry was brought forward to then.
    assert confirmation.sent_at == at(SUNDAY, 9)
    day_before = rows["reminder 24"]
    assert (day_before.status, day_before.channel) == ("sent", "sms")
    assert day_before.sent_at == at(SUNDAY, 12)  # three hours after its time
    two_hours = rows["reminder 2"]
    # Due at 07:00; three hours would be too late: it goes 15 minutes before it stops being
    # of use (an hour before the exam).
    assert (two_hours.status, two_hours.channel) == ("sent", "sms")
    assert two_hours.sent_at == at(MONDAY, 7, 45)
    world.chat.outage = None
    await _live_through(world, _every(at(MONDAY, 10), at(MONDAY, 12), 30))
    assert [m for m in world.chat.messages_to(USER) if m.from_bot] == []  # never both
    assert len(world.sms.inbox(MOBILE)) == 3


async def test_a_reminder_that_could_not_go_in_time_expires_by_neither_channel(
    world: World,
) -> None:
    world.chat.create_user(USER, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=USER)
        await uow.commit()
    await world.drain()  # the confirmation goes by chat
    world.chat.outage = 503
    world.sms.fail_next("kavenegar", 10_000, status=502)  # and the SMS gateway is down too
    await _run_until(world, at(SUNDAY, 8, 1), at(MONDAY, 8, 30))
    rows = await _rows(world)
    for key in ("reminder 24", "reminder 2"):
        assert rows[key].status == "expired", key
        assert rows[key].last_error == "expired: not delivered by 60 minutes before the exam"
    assert len([m for m in world.chat.messages_to(USER) if m.from_bot]) == 1
    assert world.sms.inbox(MOBILE) == []


async def test_a_chat_send_that_timed_out_is_never_followed_by_an_sms(world: World) -> None:
    # A Bot API that takes the request and never answers: the message may have arrived.
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bot = Bot("654321:SILENT", base_url=f"http://127.0.0.1:{port}/bot",
              request=AiohttpRequest(read_timeout=0.2))  # fmt: skip
    request = bot._request[1]
    await request.initialize()
    world.worker.channels.chat[Platform.TELEGRAM] = ChatChannel("telegram", bot)
    try:
        async with world.env.uow() as uow:
            await _booked(uow, chat_user=USER)
            await uow.commit()
        await _run_until(world, at(SUNDAY, 8), at(SUNDAY, 11))
    finally:
        await request.shutdown()
        done.set()
        server.close()
        await server.wait_closed()
    confirmation = (await _rows(world))["booking_confirmed"]
    assert confirmation.status == "pending"
    assert (confirmation.channel, confirmation.last_error) == ("chat?", "TimedOut")
    assert world.sms.inbox(MOBILE) == []


async def test_telegram_down_and_a_blocked_chat_still_fall_back_at_once(world: World) -> None:
    world.chat.create_user(USER, "بیمار")
    world.chat.block(USER)  # the patient blocked the bot: SMS now, not in an hour
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=USER)
        await uow.commit()
    await world.drain()
    assert (await _rows(world))["booking_confirmed"].channel == "sms"
    assert len(world.sms.inbox(MOBILE)) == 1
