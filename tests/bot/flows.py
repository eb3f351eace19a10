"""Steps several bot tests share: registering a patient, requesting and booking an exam."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from tests.bot.harness import Chat


async def register(chat: Chat, n: int, *, sex: str = "male", year: str = "1360") -> None:
    """Register patient number ``n`` through the bot."""
    await chat.command("start")
    await chat.share_contact()
    for answer in (national_code(n), "علی", "رضایی", year):
        await chat.say(answer)
    await chat.press_msgid(reg.FEMALE if sex == "female" else reg.MALE)


async def request_exam(chat: Chat, modality: str, exam_name: str, code: str | None = None) -> None:
    """From the main menu: modality, exam, (no screening), tracking code (a fresh one)."""
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES[modality])
    await chat.press(exam_name)
    await chat.say(code or tracking_code())


async def book_first_free(chat: Chat) -> None:
    """Choose the earliest day, its earliest time, and confirm."""
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(booking.CONFIRM)


__all__ = ["book_first_free", "register", "req", "request_exam"]
