"""The raw wire format: every request encoding, case-insensitive names and the error envelope."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from sandbox.botapi import BotApiSandbox, RateLimits

from .conftest import TOKEN

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, url: str, *, method: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def test_every_encoding_is_accepted(
    sandbox: BotApiSandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.create_user(1001)
    base = f"{sandbox.base_url}{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await call(http, f"{base}/sendMessage?chat_id=1001&text=query", method="GET")
    assert (status, body["result"]["text"]) == (200, "query")
    form = {"chat_id": "1001", "text": "form", "reply_markup": json.dumps(markup)}
    status, body = await call(http, f"{base}/sendmessage", data=form)
    assert body["result"]["reply_markup"] == markup
    multipart = aiohttp.FormData(form)
    multipart.add_field("unused", b"x", filename="x.bin")
    status, body = await call(http, f"{base}/SENDMESSAGE", data=multipart)
    assert (status, body["result"]["text"]) == (200, "form")
    payload = {"chat_id": 1001, "text": "json", "reply_markup": markup}
    status, body = await call(http, f"{base}/sendMessage", json=payload)
    assert (status, body["ok"], body["result"]["text"]) == (200, True, "json")
    assert sandbox.request_counts()["sendMessage"] == 4


async def test_error_envelopes(sandbox: BotApiSandbox, http: aiohttp.ClientSession) -> None:
    base = f"{sandbox.base_url}{TOKEN}"
    assert await call(http, f"{base}/flyToTheMoon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert await call(http, f"{sandbox.base_url}1:bad/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await call(http, f"{base}/sendMessage", json={"chat_id": 5, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    sandbox.create_user(1001)
    sandbox.set_limits(RateLimits(per_chat_per_second=1, per_chat_burst=1))
    await call(http, f"{base}/sendMessage", json={"chat_id": 1001, "text": "1"})
    status, body = await call(http, f"{base}/sendMessage", json={"chat_id": 1001, "text": "2"})
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    status, _ = await call(http, f"{sandbox.base_file_url}{TOKEN}/photos/none.jpg", method="GET")
    assert status == 404
