"""The /_sandbox/ HTTP control endpoints, as the demo and benchmarks use them."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from .conftest import png

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sandbox.botapi import BotApiSandbox


@pytest.fixture
async def control(sandbox: BotApiSandbox) -> AsyncIterator[Any]:
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:

        async def request(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with session.request(method, f"/_sandbox{path}", json=body) as response:
                payload = await response.json()
                return response.status, payload.get("result", payload.get("description"))

        yield request


async def test_users_act_and_read_over_http(control: Any, bot: Bot) -> None:
    status, user = await control("POST", "/users", {"user_id": 1001, "first_name": "Sara"})
    assert (status, user["id"]) == (200, 1001)
    status, message = await control("POST", "/users/1001/text", {"text": "سلام"})
    assert message["text"] == "سلام"
    photo = base64.b64encode(png(10, 20)).decode()
    status, _ = await control("POST", "/users/1001/photo", {"data_base64": photo})
    assert status == 200
    assert len(await bot.get_updates()) == 2

    waiting = asyncio.create_task(control("GET", "/chats/1001/next?timeout=5"))
    await asyncio.sleep(0.05)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    await bot.send_message(1001, "Confirm?", reply_markup=markup)
    status, seen = await waiting
    assert (status, seen["message"]["text"], seen["deleted"]) == (200, "Confirm?", False)

    status, query_id = await control("POST", "/users/1001/press", {"text": "Yes"})
    assert status == 200
    await bot.answer_callback_query(query_id, text="ok")
    assert (await control("GET", f"/callbacks/{query_id}?wait=1"))[1]["text"] == "ok"
    status, messages = await control("GET", "/chats/1001/messages")
    assert [m["message"]["text"] for m in messages] == ["Confirm?"]
    assert (await control("GET", "/chats/1001/last"))[1]["message"]["text"] == "Confirm?"
    assert (await control("GET", "/stats"))[1]["answerCallbackQuery"] == 1


async def test_errors_limits_and_reset(control: Any, sandbox: BotApiSandbox) -> None:
    assert (await control("POST", "/users/77/text", {"text": "x"}))[0] == 404
    await control("POST", "/users", {"user_id": 1001})
    assert (await control("POST", "/users/1001/text", {"txt": "x"}))[0] == 400
    assert (await control("GET", "/chats/1001/next?timeout=0.05"))[0] == 408
    status, limits = await control("PUT", "/limits", {"per_chat_per_second": 2})
    assert (status, limits["per_chat_per_second"]) == (200, 2)
    await control("POST", "/users/1001/block")
    assert len((await control("GET", "/updates"))[1]) == 1
    assert (await control("POST", "/reset"))[0] == 200
    assert (await control("GET", "/users"))[1] == []
    assert sandbox.pending_updates() == []
