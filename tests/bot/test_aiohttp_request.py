"""The bot's aiohttp transport: the Bot API over it, and its failures as python-telegram-bot's."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.aiohttp_request import AiohttpRequest
from sandbox.botapi import BotApiSandbox, RateLimits

TOKEN = "4321:AIOHTTP-TRANSPORT"


async def test_the_bot_api_over_aiohttp_sends_texts_and_files() -> None:
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        sandbox.create_user(501)
        bot = Bot(TOKEN, base_url=sandbox.base_url, request=AiohttpRequest())
        async with bot:
            await bot.send_message(501, "سلام")
            await bot.send_document(501, b"%PDF-1.4 test", filename="nosakhe.pdf")
        sent = sandbox.messages_to(501)
        assert sent[0].text == "سلام"
        assert sent[1].data["document"]["file_name"] == "nosakhe.pdf"


async def test_parameters_go_as_json_with_nested_objects_and_persian_text_intact() -> None:
    seen: list[tuple[str, object]] = []

    async def record(request: web.Request) -> web.Response:
        if request.path.endswith("/getMe"):
            me = {"id": 4321, "is_bot": True, "first_name": "Radyar", "username": "radyar_bot"}
            return web.json_response({"ok": True, "result": me})
        seen.append((request.content_type, await request.json()))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    async with TestServer(app, host="127.0.0.1") as server:
        bot = Bot(TOKEN, base_url=str(server.make_url("/bot")), request=AiohttpRequest())
        async with bot:
            await bot.set_my_commands([BotCommand("start", "شروع")], language_code="fa")
            await bot.answer_callback_query("q1", text="نوبت شما ثبت شد ✅")
    assert seen == [
        (
            "application/json",
            {"commands": [{"command": "start", "description": "شروع"}], "language_code": "fa"},
        ),
        ("application/json", {"callback_query_id": "q1", "text": "نوبت شما ثبت شد ✅"}),
    ]
    # And the sandbox, strict as the Bot API, reads a keyboard sent that way.
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        sandbox.create_user(502)
        async with Bot(TOKEN, base_url=sandbox.base_url, request=AiohttpRequest()) as bot:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("لغو", callback_data="x:1")]])
            await bot.send_message(502, "نوبت", reply_markup=keyboard)
        sent = sandbox.messages_to(502)[0]
        assert sent.data["reply_markup"] == keyboard.to_dict()


async def test_a_slow_answer_is_a_timeout_and_a_closed_port_a_network_error() -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    async with TestServer(app, host="127.0.0.1") as server:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        try:
            with pytest.raises(TimedOut):
                await request.post(str(server.make_url("/bot1:x/getMe")))
        finally:
            await request.shutdown()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{closed}/bot1:x/getMe")
    finally:
        await request.shutdown()


async def test_a_new_connection_has_its_connect_timeout_whatever_the_pool_wait() -> None:
    # The wait for the pool is near zero; making the connection itself still has its 5 s (the
    # pool's wait used to bound the connecting too, so a slow handshake failed at 1 s).
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        sandbox.create_user(503)
        request = AiohttpRequest(pool_timeout=1e-6, connect_timeout=5.0)
        async with Bot(TOKEN, base_url=sandbox.base_url, request=request) as bot:
            await bot.send_message(503, "سلام")
        assert sandbox.messages_to(503)[0].text == "سلام"
