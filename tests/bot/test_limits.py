"""Everything the bot sends fits Telegram's limits: text ≤ 4096 characters, callback data
≤ 64 bytes, at most 100 inline buttons (8 a row). Checked after every step of the main flows,
in Persian and English, on the longest lists, cards and texts the demo department has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from bot.callbacks import pack
from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import booking, info
from bot.keyboards import HELP, LANGUAGE, NEW_REQUEST, PAGE_SIZE, paged
from bot.views import MODALITY_NAMES
from clinic.actors import Actor
from clinic.models import Exam, Insurer, Referral, Role, Staff
from clinic.referrals import review_referral
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.sms import code_sent
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.botapi.world import StoredMessage

MAX_TEXT, MAX_DATA, MAX_BUTTONS, MAX_ROW = 4096, 64, 100, 8


def within_limits(messages: list[StoredMessage]) -> None:
    """Assert Telegram's limits on every message (text in UTF-16 units, as Telegram counts)."""
    for message in messages:
        text = message.text or ""
        assert len(text.encode("utf-16-le")) // 2 <= MAX_TEXT, text[:80]
        rows = message.inline_keyboard
        assert sum(len(row) for row in rows) <= MAX_BUTTONS
        assert all(len(row) <= MAX_ROW for row in rows)
        for button in message.buttons:
            assert len(str(button.get("callback_data", "")).encode()) <= MAX_DATA


class Checked(Chat):
    """A chat that checks the limits after every action (edits included: checked as they land)."""

    async def _act(self, do: Any, *, updates: int = 1) -> list[StoredMessage]:
        sent = await super()._act(do, updates=updates)
        within_limits(self.bot_messages())
        return sent


def checked(harness: Harness, user_id: int, lang: str = "fa") -> Checked:
    harness.user(user_id, lang=lang)
    return Checked(harness, user_id, lang)


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _register(chat: Chat, n: int) -> None:
    await chat.command("start")
    await chat.share_contact()
    await chat.say(national_code(n))
    await chat.say(await code_sent(chat.harness.env))  # the text message's one-time code
    for answer in ("ف" * 80, "ک" * 80, "1375"):  # the longest names
        await chat.say(answer)
    await chat.press_msgid(reg.FEMALE)


async def _page_through(chat: Chat, more: str) -> int:
    """Press "more" until the last page; returns how many pages there were."""
    pages = 1
    while chat._(more) in chat.buttons():
        await chat.press_msgid(more)
        pages += 1
    return pages


async def _request(chat: Chat, exam: Exam) -> None:
    """Ask for ``exam``: its modality, the page it is on, No to every safety question."""
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES[exam.modality])
    name = exam.name_fa if chat.lang == "fa" else exam.name_en
    while name not in chat.buttons():
        await chat.press_msgid(req.MORE)
    await chat.press(name)
    while chat.buttons() == [chat._(req.YES), chat._(req.NO)]:
        await chat.press_msgid(req.NO)
    await chat.say(tracking_code())
    if chat.last_text() == chat._(req.ASK_INSURER):
        await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])


async def _book_after_paging(chat: Chat) -> None:
    assert chat.last_text() == chat._(booking.CHOOSE_DAY)
    assert await _page_through(chat, booking.MORE) > 1
    while chat._(booking.BACK) in chat.buttons():
        await chat.press_msgid(booking.BACK)
    await chat.press(chat.buttons()[0])
    await _page_through(chat, booking.LATER_TIMES)
    while chat._(booking.EARLIER_TIMES) in chat.buttons():
        await chat.press_msgid(booking.EARLIER_TIMES)
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(booking.CONFIRM)
    assert chat.texts()[-1] == chat._(booking.ANYTHING_ELSE)


async def _exam(harness: Harness, code: str) -> Exam:
    async with harness.env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == code))
    assert exam is not None
    return exam


async def _approve_latest(harness: Harness) -> int:
    async with harness.env.uow() as uow:
        referral_id = await uow.session.scalar(select(Referral.id).order_by(Referral.id.desc()))
        staff_id = await uow.session.scalar(select(Staff.id).order_by(Staff.id))
        assert referral_id is not None and staff_id is not None
        admin = Actor.staff(staff_id, [Role.ADMIN, Role.RECEPTION])
        await review_referral(uow, admin, referral_id, approve=True)
        await uow.commit()
    return referral_id


async def test_every_list_and_text_of_the_main_flows_fits(harness: Harness) -> None:
    chat = checked(harness, 6001)
    await _register(chat, 0)
    for modality in MODALITY_NAMES:  # every exam list, every page
        await chat.tap(NEW_REQUEST)
        await chat.press_msgid(MODALITY_NAMES[modality])
        await _page_through(chat, req.MORE)
        await chat.command("cancel")
    # The longest preparation, with the most safety questions: reviewed, then a deep link.
    await _request(chat, await _exam(harness, "CT-ABD-PEL-C"))
    assert chat.last_text() == chat._(req.WAIT_REVIEW)
    referral_id = await _approve_latest(harness)
    await chat.command("start", f"ref{referral_id}")
    await _book_after_paging(chat)
    # The day with the most times (two radiography rooms, ten-minute slots).
    await _request(chat, await _exam(harness, "XR-CHEST"))
    await _book_after_paging(chat)
    await chat.tap(HELP)
    await chat.tap(LANGUAGE)
    await chat.press("English")
    assert chat.last_text() == info.LANGUAGE_SAVED.format(language="English")


async def test_the_same_in_english(harness: Harness) -> None:
    chat = checked(harness, 6002, lang="en")
    await _register(chat, 1)
    await _request(chat, await _exam(harness, "BMD-DEXA"))
    await _book_after_paging(chat)
    await chat.tap(HELP)


def test_keyboards_stay_within_limits_however_long_the_list() -> None:
    """Directly, without the sandbox: paging bounds any list, and ids cannot overflow data."""
    largest = 2**31 - 1
    items = [(f"{i}", pack("hold", "ref", largest, largest, "209912312359")) for i in range(1000)]
    for page in (0, 3, 124, 10_000, -5):
        markup = paged(items, page, "day", "ref", largest, "20991231", more=">", back="<")
        buttons = [b for row in markup.inline_keyboard for b in row]
        assert len(buttons) <= PAGE_SIZE + 2 <= MAX_BUTTONS
        assert all(len(str(b.callback_data).encode()) <= MAX_DATA for b in buttons)
    with pytest.raises(ValueError, match="64 bytes"):
        pack("hold", "ref", "9" * 24, "9" * 24, "9" * 12)
