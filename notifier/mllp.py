"""MLLP (HL7 v2 over TCP): the listener the RIS/HIS sends to, and a small client.

A frame is ``0x0B`` + message + ``0x1C 0x0D``. A connection may carry any number of frames, in
any chunking; each frame is answered (framed) in order before the next is read. Bytes outside a
frame are ignored, and a start byte inside an open frame starts it over (the sender gave up on
the partial one). A client that leaves mid-frame loses only that frame. If the handler raises,
that frame gets no answer (the sender times out and resends) and only the exception's type is
logged; the server keeps serving.

The listener shares the process with the bot and the outbox worker, so what it may take is
bounded (``MllpLimits``; connection caps, eviction, the idle timeout and the allow-list are
``notifier.gate``'s):

- A frame over ``max_frame`` (default 256 KiB) is answered, when the listener is given an
  answer for it (``too_large``: the HL7 side sends an AR naming the limit, so the sender stops
  resending it as it is), and the connection is closed. We read only the MSH,
  PID, ORC, OBR, IPC and TQ1 fields of a message, never report text or attachments; a
  text-only radiology ORU is a few KiB, so 256 KiB leaves ample room for long reports and many
  OBX lines while 64 connections can buffer 16 MiB at most, not 64. A RIS that embeds PDFs
  (OBX of type ED) needs RADYAR_MLLP_MAX_FRAME_KB raised.
- A frame started must end within ``frame_seconds``, and our answer must be taken by the
  sender within as long, or the connection is closed.
- Each connection may send ``frames_per_second`` frames a second (a burst of as many). Over the
  rate we do not drop or refuse frames: we wait before answering, and as we read nothing while
  a frame waits, TCP makes the sender wait too. MLLP is a stop-and-wait protocol: a sender
  sends its next message only after the ACK of the last, so a late ACK paces a correct sender
  exactly and loses nothing, where a NAK or a closed connection would make it resend (more
  traffic, not less) or, for an interface engine that holds its queue on errors, stop the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifier.gate import BACKLOG, Connection, ConnectionGate, ConnectionLimits
from notifier.peers import GuardStats, TokenBucket

if TYPE_CHECKING:
    import socket

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_FRAME = 256 * 1024
HEAD_BYTES = 4096  # of a frame too large, what is kept to answer it
READ_SIZE = 64 * 1024

Handler = Callable[[bytes], Awaitable[bytes]]
TooLarge = Callable[[bytes], Awaitable[bytes]]  # the answer to a frame over the limit


@dataclass(frozen=True)
class MllpLimits:
    """What one MLLP listener allows (see the module docstring and ``notifier.gate``)."""

    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    frame_seconds: float = 30.0
    frames_per_second: float = 20.0
    max_frame: int = MAX_FRAME


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

    @property
    def head(self) -> bytes:
        """The start of the open frame (its MSH, for answering one too large)."""
        return bytes(self._buffer[:HEAD_BYTES])

    @property
    def in_frame(self) -> bool:
        """A frame has started and not ended yet."""
        return self._in_frame

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


class MllpServer:
    """A running MLLP listener: its sockets and counters; ``close`` ends every connection."""

    def __init__(
        self, server: asyncio.Server, gate: ConnectionGate, tasks: set[asyncio.Task[None]]
    ) -> None:
        self._server = server
        self.gate = gate
        self._tasks = tasks

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets (``getsockname()`` gives the port)."""
        return self._server.sockets

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def stats(self) -> GuardStats:
        """What its limits did."""
        return self.gate.stats

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._server.close()
        self.gate.close_all()

    async def wait_closed(self) -> None:
        """Until the listener and every connection's task have ended."""
        await self._server.wait_closed()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def start_mllp_server(
    handle: Handler,
    host: str,
    port: int,
    limits: MllpLimits | None = None,
    stats: GuardStats | None = None,
    too_large: TooLarge | None = None,
) -> MllpServer:
    """Listen on ``host:port`` (0: any free port) and answer each frame with ``handle``; a
    frame over the limit with ``too_large`` (given the frame's start), if set, then close."""
    limits = limits or MllpLimits()
    loop = asyncio.get_running_loop()
    gate = ConnectionGate(limits.connections, stats or GuardStats("mllp"))
    tasks: set[asyncio.Task[None]] = set()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = gate.connection_of(writer.transport)
        if connection is None:  # closed between admission and here
            writer.close()
            return
        task = loop.create_task(_serve(handle, limits, connection, reader, writer, too_large))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def protocol() -> asyncio.Protocol:
        reader = asyncio.StreamReader(limit=READ_SIZE, loop=loop)
        return asyncio.StreamReaderProtocol(reader, on_connect, loop=loop)

    server = await loop.create_server(gate.wrap(protocol), host, port, backlog=BACKLOG)
    return MllpServer(server, gate, tasks)


async def _serve(
    handle: Handler,
    limits: MllpLimits,
    connection: Connection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    too_large: TooLarge | None = None,
) -> None:
    decoder = MllpDecoder(limits.max_frame)
    pace = TokenBucket(limits.frames_per_second, limits.frames_per_second)
    loop = asyncio.get_running_loop()
    opened: float | None = None  # when the frame still open began
    try:
        while True:
            deadline = None if opened is None else opened + limits.frame_seconds
            try:
                data = await _read(reader, deadline)
            except TimeoutError:
                connection.close("unfinished_frame")
                break
            if not data:
                break
            payloads = decoder.feed(data)
            for payload in payloads:
                if not await _exchange(handle, limits, connection, pace, payload, writer):
                    return
            if decoder.too_large:
                if too_large is not None:
                    await _refuse(too_large, decoder.head, limits, writer)
                connection.close("too_large")
                break
            if not decoder.in_frame:
                opened = None
            elif opened is None or payloads:
                opened = loop.time()  # after the answers, so pacing does not eat its time
    except ConnectionError:
        pass  # the sender went away; whatever it sent last is lost to it, not to us
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _refuse(
    too_large: TooLarge, head: bytes, limits: MllpLimits, writer: asyncio.StreamWriter
) -> None:
    """Answer a frame too large (a sender taking longer than a frame may is left)."""
    try:
        answer = await too_large(head)
        writer.write(frame(answer))
        async with asyncio.timeout(limits.frame_seconds):
            await writer.drain()
    except TimeoutError:
        pass
    except Exception as exc:  # no answer then: the connection closes all the same
        log.warning("mllp: no answer to a frame too large: %s", type(exc).__name__)


async def _read(reader: asyncio.StreamReader, deadline: float | None) -> bytes:
    # Between frames the gate's idle timer closes a silent connection; here only the deadline
    # of a frame already started.
    async with asyncio.timeout_at(deadline):
        return await reader.read(READ_SIZE)


async def _exchange(
    handle: Handler,
    limits: MllpLimits,
    connection: Connection,
    pace: TokenBucket,
    payload: bytes,
    writer: asyncio.StreamWriter,
) -> bool:
    """Answer one frame, after waiting out the rate; False when the connection was closed."""
    wait = pace.take()
    if wait > 0:
        connection.note("slowed")
        # Not "working" while it waits: a flood of frames must not make a connection unevictable.
        await asyncio.sleep(wait)
    with connection.working():
        reply = await _answer(handle, payload)
        if reply is None:
            return True
        writer.write(frame(reply))
        try:
            async with asyncio.timeout(limits.frame_seconds):
                await writer.drain()
        except TimeoutError:
            connection.close("not_reading")
            return False
    return True


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
