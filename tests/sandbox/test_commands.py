"""setMyCommands per language and scope, descriptions, close and logOut."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import BadRequest

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox


async def test_commands_per_language_and_scope(bot: Bot) -> None:
    persian = [BotCommand("start", "شروع"), BotCommand("book", "نوبت")]
    english = [BotCommand("start", "Start")]
    assert await bot.set_my_commands(persian, language_code="fa")
    assert await bot.set_my_commands(english)
    staff = BotCommandScopeChat(2002)
    assert await bot.set_my_commands([BotCommand("today", "Today's list")], scope=staff)
    assert [c.command for c in await bot.get_my_commands(language_code="fa")] == ["start", "book"]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.command for c in await bot.get_my_commands(scope=staff)] == ["today"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert await bot.delete_my_commands(language_code="fa")
    assert await bot.get_my_commands(language_code="fa") == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start-Now", "bad")])


async def test_descriptions_and_harmless_calls(sandbox: BotApiSandbox, bot: Bot) -> None:
    assert await bot.set_my_description("نوبت‌دهی تصویربرداری", language_code="fa")
    assert await bot.set_my_short_description("Imaging appointments")
    assert (await bot.get_my_description("fa")).description == "نوبت‌دهی تصویربرداری"
    assert (await bot.get_my_short_description("en")).short_description == "Imaging appointments"
    assert await bot.close()
    assert await bot.log_out()
    counts = sandbox.request_counts()
    assert counts["close"] == counts["logOut"] == 1
