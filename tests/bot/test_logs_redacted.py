"""The whole patient flow at DEBUG, every library at DEBUG too (not quieted as the product
quiets them), through the redaction layer radyar installs on the root logger's handlers: no
national code, mobile, name, message text or bot token in any line (issue 15, part 1)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from bot.conversations import request as req
from clinic.log_redaction import Redacting
from clinic.models import Insurer
from tests.bot.flows import book_first_free, register, request_exam
from tests.bot.harness import TOKEN
from tests.factories import national_code

if TYPE_CHECKING:
    from tests.bot.harness import Harness

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"


async def test_registering_and_booking_at_debug_logs_nothing_personal(harness: Harness) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.addFilter(Redacting())  # as clinic.log_redaction.install puts it on every handler
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "telegram", "aiosqlite")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        chat = harness.user(2701)
        await register(chat, 7)
        await request_exam(chat, "CT", CT_BRAIN)
        await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
        await book_first_free(chat)
        await chat.say("my knee has hurt since Tuesday")  # free text the bot does not expect
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    out = stream.getvalue()
    assert len(out.splitlines()) > 50  # the libraries did talk
    code = national_code(7)
    mobile = f"912{2701:07d}"  # the harness's contact, 98912…: any form of it
    for value in (code, mobile, "علی", "رضایی", TOKEN.split(":")[1], "my knee has hurt"):
        assert value not in out, value
