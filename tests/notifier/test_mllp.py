"""MLLP framing over a real loopback TCP connection, with a recording handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import pytest

from notifier.mllp import (
    MAX_FRAME,
    MllpDecoder,
    MllpServer,
    frame,
    send_mllp,
    start_mllp_server,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Recorder:
    """Answers ``ACK:<payload>``; raises for payloads starting with ``boom``."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    async def __call__(self, payload: bytes) -> bytes:
        self.seen.append(payload)
        if payload.startswith(b"boom"):
            raise RuntimeError("secret patient data 0499370899")
        return b"ACK:" + payload


class Server:
    def __init__(self, server: MllpServer, handler: Recorder) -> None:
        self.server = server
        self.handler = handler
        self.port = server.port

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    handler = Recorder()
    srv = await start_mllp_server(handler, "127.0.0.1", 0)
    try:
        yield Server(srv, handler)
    finally:
        srv.close()
        await srv.wait_closed()


async def read_replies(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    decoder = MllpDecoder()
    replies: list[bytes] = []
    async with asyncio.timeout(5):
        while len(replies) < count:
            data = await reader.read(4096)
            assert data, "connection closed early"
            replies += decoder.feed(data)
    return replies


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


def test_decoder_handles_chunks_noise_and_restarts() -> None:
    decoder = MllpDecoder()
    stream = b"noise" + frame(b"one") + b"\r\n" + frame(b"two") + b"\x0bhalf\x0bthree\x1c\r"
    got = [p for i in range(len(stream)) for p in decoder.feed(stream[i : i + 1])]
    assert got == [b"one", b"two", b"three"]
    assert MllpDecoder().feed(stream) == [b"one", b"two", b"three"]
    small = MllpDecoder(max_frame=4)
    assert small.feed(frame(b"1234")) == [b"1234"]
    assert small.feed(frame(b"12345")) == []
    assert small.too_large


async def test_client_gets_the_reply(server: Server) -> None:
    assert await send_mllp("127.0.0.1", server.port, b"MSH|hello") == b"ACK:MSH|hello"


async def test_several_frames_in_one_write_and_noise_between(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(b"junk" + frame(b"a") + b"\r\n" + frame(b"b") + frame(b"c"))
    assert await read_replies(reader, 3) == [b"ACK:a", b"ACK:b", b"ACK:c"]
    await close(writer)


async def test_a_frame_in_one_byte_writes(server: Server) -> None:
    reader, writer = await server.connect()
    for byte in frame(b"MSH|split"):
        writer.write(bytes([byte]))
        await writer.drain()
    assert await read_replies(reader, 1) == [b"ACK:MSH|split"]
    await close(writer)


async def test_an_oversize_frame_closes_the_connection(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await server.connect()
    writer.write(b"\x0b" + b"x" * (MAX_FRAME + 10))
    with contextlib_suppress_reset():
        await writer.drain()
    async with asyncio.timeout(5):
        with contextlib_suppress_reset():
            while await reader.read(65536):
                pass  # read to EOF: the server closed
    assert server.handler.seen == []
    assert "over the size limit [too_large]" in caplog.text
    assert server.server.stats.counts["too_large"] == 1
    await close(writer)
    assert await send_mllp("127.0.0.1", server.port, b"still") == b"ACK:still"


async def test_a_client_leaving_mid_frame_harms_nobody(server: Server) -> None:
    _, writer = await server.connect()
    writer.write(b"\x0bMSH|half a message")
    await writer.drain()
    await close(writer)
    assert await send_mllp("127.0.0.1", server.port, b"next") == b"ACK:next"
    assert server.handler.seen == [b"next"]


async def test_a_failing_handler_answers_nothing_and_logs_only_the_type(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await server.connect()
    writer.write(frame(b"boom") + frame(b"after"))
    assert await read_replies(reader, 1) == [b"ACK:after"]
    await close(writer)
    assert "RuntimeError" in caplog.text
    assert "0499370899" not in caplog.text


async def test_connections_are_independent(server: Server) -> None:
    slow_reader, slow = await server.connect()
    slow.write(b"\x0bMSH|waiting for the rest")  # an open frame on one connection...
    await slow.drain()
    replies = await asyncio.gather(
        *(send_mllp("127.0.0.1", server.port, f"m{i}".encode()) for i in range(5))
    )
    assert replies == [f"ACK:m{i}".encode() for i in range(5)]  # ...does not hold the others
    slow.write(b"\x1c\r")
    assert await read_replies(slow_reader, 1) == [b"ACK:MSH|waiting for the rest"]
    await close(slow)


async def test_client_times_out_without_a_reply() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(100):  # never answers; leaves when the client gives up
            pass
        writer.close()

    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimeoutError):
            await send_mllp("127.0.0.1", port, b"hello", timeout=0.2)
    finally:
        srv.close()
        await srv.wait_closed()


def contextlib_suppress_reset() -> contextlib.AbstractContextManager[None]:
    """The server may reset the connection while we still write or read: that is the point."""
    return contextlib.suppress(ConnectionError)
