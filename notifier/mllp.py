"""MLLP (HL7 v2 over TCP): the listener the RIS/HIS sends to, and a small client.

A frame is ``0x0B`` + message + ``0x1C 0x0D``. A connection may carry any number of frames, in
any chunking; each frame is answered (framed) in order before the next is read. Bytes outside a
frame are ignored, and a start byte inside an open frame starts it over (the sender gave up on
the partial one). A frame over ``MAX_FRAME`` (1 MiB) closes the connection: nothing that large
is an HL7 report, and the limit bounds the memory one client can take. A client that leaves
mid-frame loses only that frame. If the handler raises, that frame gets no answer (the sender
times out and resends) and only the exception's type is logged; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_FRAME = 1024 * 1024
READ_SIZE = 64 * 1024

Handler = Callable[[bytes], Awaitable[bytes]]


def frame(payload: bytes) -> bytes:
    """``payload`` wrapped in MLLP start and end blocks."""
    return START_BLOCK + payload + END_BLOCK


class MllpDecoder:
    """Splits a byte stream into MLLP payloads; ``too_large`` once a frame exceeds the limit."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._in_frame = False
        self._scanned = 0  # bytes of the open frame already searched for an end or a restart
        self._max = max_frame
        self.too_large = False

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads completed by ``data``, in order."""
        payloads: list[bytes] = []
        self._buffer += data
        while not self.too_large:
            if not self._in_frame:
                start = self._buffer.find(START_BLOCK)
                if start < 0:
                    self._buffer.clear()
                    break
                del self._buffer[: start + 1]
                self._in_frame, self._scanned = True, 0
            end = self._buffer.find(END_BLOCK, self._scanned)
            restart = self._buffer.find(START_BLOCK, self._scanned)
            if restart >= 0 and (end < 0 or restart < end):
                del self._buffer[: restart + 1]
                self._scanned = 0
                continue
            if end < 0:
                self._scanned = max(len(self._buffer) - 1, 0)
                self.too_large = len(self._buffer) > self._max + 1
                break
            if end > self._max:
                self.too_large = True
                break
            payloads.append(bytes(self._buffer[:end]))
            del self._buffer[: end + len(END_BLOCK)]
            self._in_frame = False
        return payloads


async def start_mllp_server(handle: Handler, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (0: any free port) and answer each frame with ``handle``."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve(handle, reader, writer)

    return await asyncio.start_server(on_connect, host, port)


async def _serve(
    handle: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    decoder = MllpDecoder()
    try:
        while not decoder.too_large:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            for payload in decoder.feed(data):
                reply = await _answer(handle, payload)
                if reply is not None:
                    writer.write(frame(reply))
                    await writer.drain()
        if decoder.too_large:
            log.warning("mllp frame over %d bytes: connection closed", MAX_FRAME)
    except ConnectionError:
        pass  # the sender went away; whatever it sent last is lost to it, not to us
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _answer(handle: Handler, payload: bytes) -> bytes | None:
    try:
        return await handle(payload)
    except Exception as exc:  # a broken handler must not take the listener down
        log.error("mllp handler failed: %s", type(exc).__name__)
        return None


# One call, one deadline: simpler for the demo and tests than wrapping each call.
async def send_mllp(host: str, port: int, message: bytes, timeout: float = 10) -> bytes:  # noqa: ASYNC109
    """Send one framed message and return the payload of the framed reply.

    Raises TimeoutError (no reply in ``timeout`` seconds), ConnectionError (closed before a
    complete reply) or OSError (cannot connect).
    """
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(frame(message))
            await writer.drain()
            decoder = MllpDecoder()
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    raise ConnectionError("the MLLP peer closed the connection without a reply")
                replies = decoder.feed(data)
                if replies:
                    return replies[0]
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
