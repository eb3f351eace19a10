"""Webhooks: the sandbox POSTs updates to a receiver on loopback, with the secret header."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict

from .conftest import Receiver, assert_no_unknown_fields

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox

SECRET = "s3cr3t-Token_1"


async def test_updates_are_pushed_with_the_secret_header(
    sandbox: BotApiSandbox, bot: Bot, receiver: Receiver
) -> None:
    sandbox.create_user(1001)
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    sandbox.send_text(1001, "via webhook")
    secret, body = await asyncio.wait_for(receiver.received.get(), 5)
    assert secret == SECRET
    update = Update.de_json(body, bot)
    assert update.message is not None and update.message.text == "via webhook"
    assert_no_unknown_fields(update)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    sandbox.send_text(1001, "via polling")
    (polled,) = await bot.get_updates()
    assert polled.message is not None and polled.message.text == "via polling"


async def test_failed_deliveries_are_retried(
    sandbox: BotApiSandbox, bot: Bot, receiver: Receiver
) -> None:
    sandbox.create_user(1001)
    receiver.fail_next = 2
    await bot.set_webhook(receiver.url)
    sandbox.send_text(1001, "eventually")
    secret, body = await asyncio.wait_for(receiver.received.get(), 5)
    assert secret is None
    assert body["message"]["text"] == "eventually"
    assert receiver.attempts == 3
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None and "500" in info.last_error_message


async def test_drop_pending_updates_and_loopback_only(
    sandbox: BotApiSandbox, bot: Bot, receiver: Receiver
) -> None:
    sandbox.create_user(1001)
    sandbox.send_text(1001, "old")
    await bot.set_webhook(receiver.url, drop_pending_updates=True)
    sandbox.send_text(1001, "new")
    _, body = await asyncio.wait_for(receiver.received.get(), 5)
    assert body["message"]["text"] == "new"
    with pytest.raises(BadRequest, match=r"(?i)loopback"):
        await bot.set_webhook("https://example.com/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook(receiver.url, secret_token="bad token!")
