"""Steps several bot tests share: registering a patient, requesting and booking an exam."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.identity import parse_mobile
from tests.bot.sms import code_sent
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from tests.bot.harness import Chat


async def register(chat: Chat, n: int, *, sex: str = "male", year: str = "1360") -> None:
    """Register patient number ``n`` through the bot: the one-time code is read from the text
    message the SMS gateway sandbox got."""
    await chat.command("start")
    await chat.share_contact()
    await chat.say(national_code(n))
    await chat.say(await code_sent(chat.harness.env, mobile_of(chat)))
    for answer in ("علی", "رضایی", year):
        await chat.say(answer)
    await chat.press_msgid(reg.FEMALE if sex == "female" else reg.MALE)


def mobile_of(chat: Chat) -> str:
    """The mobile (09…) the chat's user shares with the contact button."""
    return parse_mobile(chat.harness.sandbox.world.users[chat.user_id].phone_number or "")


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
