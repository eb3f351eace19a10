"""A running bot forgets what another process deleted: a registration retention removed (the
CLI's ``radyar retention run``, or the daily housekeeping) and a patient erased from the
terminal (``radyar patient erase``). Their next message starts afresh, and what the bot held
in memory is not written back to the database."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert, select

from bot import forget, request_steps
from bot.conversations import registration as reg
from bot.handlers.common import START_FIRST
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic import retention
from clinic.actors import Actor
from clinic.chat_forget import user_of_key
from clinic.files import FileStore
from clinic.models import ChatConversation, ChatForget, ChatUserData, Platform
from clinic.patient_data import erase_patient
from clinic.retention import RetentionRules
from tests.bot.flows import mobile_of, register
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.sms import code_sent
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.conftest import ClinicEnv

POLL = 0.2  # seconds: the bot's poll, shortened so the tests wait less (it is 5 in service)
CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"


@pytest.fixture(autouse=True)
def _quick_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forget, "POLL_SECONDS", POLL)


@pytest.fixture
def bot(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[Harness]:
    """The running bot; nothing failed in it by the end."""
    yield harness
    assert_calm(harness, caplog)


async def _until(done: Callable[[], bool], polls: int = 10) -> None:
    """Wait until ``done``, at most ``polls`` of the bot's poll periods."""
    for _ in range(int(polls * POLL / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the poll periods")


async def _held(harness: Harness, user_id: int) -> tuple[dict[str, object] | None, list[str]]:
    """What the database holds for the user: their draft, and their conversations' names."""
    async with harness.env.uow() as uow:
        draft = await uow.session.scalar(
            select(ChatUserData.data).where(
                ChatUserData.platform == Platform.TELEGRAM, ChatUserData.user_id == user_id
            )
        )
        talks = await uow.session.execute(select(ChatConversation.name, ChatConversation.key))
        names = [name for name, key in talks.tuples() if user_of_key(key) == user_id]
    return draft, names


async def _stored(harness: Harness) -> None:
    """Let the bot write what it holds, as its next persistence round would."""
    assert harness.application is not None
    await harness.application.update_persistence()


def _in_memory(harness: Harness, user_id: int) -> bool:
    assert harness.application is not None
    return user_id in harness.application.user_data


async def _half_registered(chat: Chat, n: int) -> None:
    """/start, the number shared, the national code typed: the code went by SMS."""
    await chat.command("start")
    await chat.share_contact()
    await chat.say(national_code(n))
    assert chat.last_text() == chat._(reg.CODE_SENT)


async def test_a_registration_retention_deleted_starts_afresh(bot: Harness) -> None:
    stale = bot.user(6101)
    await _half_registered(stale, 31)
    old_code = await code_sent(bot.env, mobile_of(stale))
    await _stored(bot)
    draft, talks = await _held(bot, 6101)
    assert draft is not None and national_code(31) in str(draft) and talks == ["registration"]

    bot.env.clock.advance(hours=49)  # two days without a step: past RADYAR_RETAIN_DRAFT_HOURS
    fresh = bot.user(6102)  # someone registering right now keeps their progress
    await _half_registered(fresh, 32)
    await _stored(bot)
    async with bot.env.uow() as uow:  # as `radyar retention run` does, in its own process
        report = await retention.run(uow, FileStore(bot.files), RetentionRules())
        await uow.commit()
    assert (report.drafts, report.conversations) == (1, 1)
    assert await _held(bot, 6101) == (None, [])

    await _until(lambda: not _in_memory(bot, 6101))
    assert _in_memory(bot, 6102)
    await stale.say(old_code)  # carrying on where they were: the bot no longer knows it
    assert stale.last_text() == stale._(START_FIRST)
    await fresh.say(await code_sent(bot.env, mobile_of(fresh)))
    assert fresh.last_text() == fresh._(reg.ASK_FIRST_NAME)
    await _stored(bot)
    assert await _held(bot, 6101) == (None, [])  # nothing of the old draft written back
    draft, talks = await _held(bot, 6102)
    assert draft is not None and talks == ["registration"]

    await stale.command("start")  # and they can begin again
    assert stale.last_text().startswith(stale._(reg.WELCOME).split("{department}")[0])


async def test_a_patient_erased_from_the_terminal_midway_through_a_request(bot: Harness) -> None:
    chat = bot.user(6103)
    await register(chat, 33)
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.last_text() == chat._(request_steps.ASK_SOURCE)
    await _stored(bot)
    draft, talks = await _held(bot, 6103)
    assert draft is not None and talks == ["request"]

    async with bot.env.uow() as uow:  # as `radyar patient erase` does, in its own process
        summary = await erase_patient(
            uow, Actor.system(), national_code(33), files=FileStore(bot.files),
            cancel_upcoming=True,
        )  # fmt: skip
        await uow.commit()
    assert summary.erased and summary.accounts == (("telegram", 6103),)
    assert await _held(bot, 6103) == (None, [])

    await _until(lambda: not _in_memory(bot, 6103))
    await chat.say(tracking_code())  # the prescription the request waited for
    assert chat.last_text() == chat._(START_FIRST)
    await _stored(bot)
    assert await _held(bot, 6103) == (None, [])


async def test_a_note_committed_after_a_later_one_is_still_acted_on(
    sqlite_env: ClinicEnv,
) -> None:
    # On PostgreSQL a row's number is taken before its transaction commits: number 5 can
    # become visible after number 6 was seen. It is still taken, once.
    ticks = [0.0]
    feed = forget.ForgetFeed(sqlite_env.uow, Platform.TELEGRAM, ticks=lambda: ticks[0])

    async def noted(number: int, user: int, platform: Platform = Platform.TELEGRAM) -> None:
        async with sqlite_env.uow() as uow:
            row = {"id": number, "platform": platform, "user_id": user}
            await uow.session.execute(insert(ChatForget).values(at=uow.clock.now(), **row))
            await uow.commit()

    await noted(2, 700)
    await feed.begin()  # there before the bot loaded its state: nothing to forget
    assert await feed.new() == []
    await noted(6, 701)
    await noted(7, 702, Platform.BALE)  # the other platform's bot forgets that one
    assert await feed.new() == [701]
    await noted(5, 700)
    assert await feed.new() == [700]
    assert await feed.new() == []
    ticks[0] += forget.SETTLE_SECONDS
    await noted(8, 703)
    assert await feed.new() == [703]
    ticks[0] += forget.SETTLE_SECONDS  # settled: no longer asked for
    assert await feed.new() == []
    await noted(4, 704)  # a number left behind that long is one that never committed
    assert await feed.new() == []
