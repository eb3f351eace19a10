"""The Bale flavour: same API, capability differences taken from data (assumed, unverified)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from telegram import Bot
from telegram.error import InvalidToken

from sandbox.botapi import PLATFORMS, BotApiSandbox, RateLimits

from .conftest import OTHER_TOKEN, TOKEN, Receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def bale() -> AsyncIterator[BotApiSandbox]:
    limits = RateLimits.disabled()
    async with BotApiSandbox([TOKEN], platform="bale", limits=limits) as server:
        yield server


async def test_bale_flags_drive_behaviour(bale: BotApiSandbox, receiver: Receiver) -> None:
    assert bale.platform == "bale"
    assert PLATFORMS["bale"].webhook_secret_header is False
    async with Bot(TOKEN, base_url=bale.base_url, base_file_url=bale.base_file_url) as bot:
        bale.create_user(1001)
        assert (await bot.send_message(1001, "سلام")).text == "سلام"
        with pytest.raises(InvalidToken, match=r"(?i)not found"):  # PTB maps 404 so
            await bot.set_my_description("x")
        await bot.set_webhook(receiver.url, secret_token="abc")
        bale.send_text(1001, "hi")
        secret, _ = await asyncio.wait_for(receiver.received.get(), 5)
        assert secret is None


async def test_unknown_platform_and_non_loopback_host_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown platform"):
        BotApiSandbox(platform="whatsapp")
    with pytest.raises(ValueError, match="loopback"):
        BotApiSandbox(host="0.0.0.0")


async def test_two_bots_have_separate_worlds_of_chats(sandbox: BotApiSandbox) -> None:
    sandbox.add_bot(OTHER_TOKEN, username="second_bot")
    sandbox.create_user(1001)
    async with Bot(OTHER_TOKEN, base_url=sandbox.base_url) as other:
        assert (await other.get_me()).username == "second_bot"
        await other.send_message(1001, "from the second bot")
    assert sandbox.messages_to(1001) == []
    assert [m.text for m in sandbox.messages_to(1001, token=OTHER_TOKEN)] == [
        "from the second bot"
    ]
