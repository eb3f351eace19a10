"""Fixtures for the Bot API sandbox tests: a sandbox on 127.0.0.1:0 and a real PTB Bot on it."""

from __future__ import annotations

import asyncio
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from telegram import Bot, TelegramObject

from sandbox.botapi import BotApiSandbox, RateLimits

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

TOKEN = "123456789:AAE_sandbox-test-token_abcdefghijklmn"
OTHER_TOKEN = "987654321:AAE_second-bot-token_abcdefghijklmn"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[BotApiSandbox]:
    """A sandbox with flood control off (tests that need it switch it on)."""
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled(), clock=clock) as server:
        yield server


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url
    ) as client:
        yield client


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def assert_no_unknown_fields(obj: object, path: str = "update") -> None:
    """Every field the sandbox sent is one PTB knows: nothing ended up in api_kwargs."""
    if isinstance(obj, TelegramObject):
        assert not obj.api_kwargs, f"{path}: unknown fields {dict(obj.api_kwargs)}"
        slots = [name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ())]
        for name in slots:
            if not name.startswith("_"):
                assert_no_unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            assert_no_unknown_fields(item, f"{path}[{index}]")


@dataclass
class Receiver:
    """A webhook endpoint that records what it receives and can fail on purpose."""

    url: str = ""
    fail_next: int = 0
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = field(
        default_factory=asyncio.Queue
    )
    attempts: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        assert request.content_type == "application/json"
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        await self.received.put((secret, await request.json()))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()
