"""The MLLP listener's limits over real loopback sockets (127.0.0.2, .3 … are other peers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import replace
from typing import TYPE_CHECKING

from notifier.gate import ConnectionLimits
from notifier.mllp import MllpDecoder, MllpLimits, MllpServer, frame, start_mllp_server
from notifier.peers import AllowList

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    import pytest

WAIT = 10.0  # generous: each wait ends as soon as its condition holds


class Handler:
    """Answers ``ACK:<payload>``; ``hold`` waits for ``release``; ``big`` gets 8 MiB back."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.release = asyncio.Event()

    async def __call__(self, payload: bytes) -> bytes:
        self.seen.append(payload)
        if payload == b"hold":
            await self.release.wait()
        if payload == b"big":
            return b"x" * (8 * 1024 * 1024)
        return b"ACK:" + payload


class Peer:
    """One client connection from a chosen loopback address."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = MllpDecoder()

    async def send(self, payload: bytes) -> None:
        self.writer.write(frame(payload))
        await self.writer.drain()

    async def replies(self, count: int) -> list[bytes]:
        got: list[bytes] = []
        async with asyncio.timeout(WAIT):
            while len(got) < count:
                data = await self.reader.read(65536)
                assert data, "closed by the server"
                got += self.decoder.feed(data)
        return got

    async def ask(self, payload: bytes) -> bytes:
        await self.send(payload)
        return (await self.replies(1))[0]

    async def closed_by_server(self) -> bool:
        """True once the server has closed (EOF or reset); fails the test if it never does."""
        async with asyncio.timeout(WAIT):
            with contextlib.suppress(ConnectionError):
                while await self.reader.read(65536):
                    pass
        return True

    def close(self) -> None:
        self.writer.close()


def limits(
    *,
    max_connections: int = 16,
    max_per_peer: int = 16,
    idle_seconds: float = 60,
    allow: AllowList | None = None,
) -> MllpLimits:
    """Small limits for tests: nothing times out, is slowed or refused unless a test says so."""
    connections = ConnectionLimits(
        max_connections, max_per_peer, idle_seconds, allow or AllowList()
    )
    return MllpLimits(connections=connections, frames_per_second=1000)


@contextlib.asynccontextmanager
async def serving(
    mllp: MllpLimits, handler: Handler | None = None
) -> AsyncIterator[tuple[MllpServer, Callable[[str], Awaitable[Peer]]]]:
    server = await start_mllp_server(handler or Handler(), "127.0.0.1", 0, mllp)
    peers: list[Peer] = []

    async def connect(source: str) -> Peer:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.port, local_addr=(source, 0)
        )
        peer = Peer(reader, writer)
        peers.append(peer)
        return peer

    try:
        yield server, connect
    finally:
        for peer in peers:
            peer.close()
        server.close()
        await server.wait_closed()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something the server does after our part is done (a close, a count)."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached in time")


async def test_past_the_per_peer_cap_the_newcomer_is_closed_at_once() -> None:
    async with serving(limits(max_per_peer=2)) as (server, connect):
        first, second = await connect("127.0.0.2"), await connect("127.0.0.2")
        third = await connect("127.0.0.2")
        assert await third.closed_by_server()
        assert [await first.ask(b"a"), await second.ask(b"b")] == [b"ACK:a", b"ACK:b"]
        assert await (await connect("127.0.0.3")).ask(b"c") == b"ACK:c"  # another address
        first.close()
        await until(lambda: len(server.gate) == 2)
        assert await (await connect("127.0.0.2")).ask(b"d") == b"ACK:d"  # room again
        assert server.stats.counts == {"peer_cap": 1}


async def test_at_the_cap_the_connection_idle_longest_makes_room() -> None:
    async with serving(limits(max_connections=3)) as (server, connect):
        a, b, c = [await connect(f"127.0.0.{n}") for n in (2, 3, 4)]
        assert [await b.ask(b"b"), await c.ask(b"c")] == [b"ACK:b", b"ACK:c"]  # a: idle longest
        d = await connect("127.0.0.5")
        assert await a.closed_by_server()
        replies = [await peer.ask(name) for peer, name in ((b, b"b2"), (c, b"c2"), (d, b"d"))]
        assert replies == [b"ACK:b2", b"ACK:c2", b"ACK:d"]
        assert server.stats.counts == {"evicted": 1}
        assert server.stats.open == 3


async def test_the_newest_connection_is_the_last_to_make_room() -> None:
    async with serving(limits(max_connections=3)) as (server, connect):
        talked, silent = await connect("127.0.0.2"), await connect("127.0.0.3")
        assert await talked.ask(b"t") == b"ACK:t"  # its last exchange is now after silent began
        newest = await connect("127.0.0.4")
        await connect("127.0.0.5")
        assert await silent.closed_by_server()
        assert [await talked.ask(b"a"), await newest.ask(b"b")] == [b"ACK:a", b"ACK:b"]
        assert server.stats.counts == {"evicted": 1}


async def test_when_every_connection_is_handling_a_message_the_newcomer_is_refused() -> None:
    handler = Handler()
    async with serving(limits(max_connections=2), handler) as (server, connect):
        a, b = await connect("127.0.0.2"), await connect("127.0.0.3")
        await a.send(b"hold")
        await b.send(b"hold")
        await until(lambda: handler.seen == [b"hold", b"hold"])
        assert await (await connect("127.0.0.4")).closed_by_server()
        handler.release.set()
        assert [await a.replies(1), await b.replies(1)] == [[b"ACK:hold"], [b"ACK:hold"]]
        assert server.stats.counts == {"full": 1}


async def test_a_connection_whose_message_is_being_handled_is_not_evicted() -> None:
    handler = Handler()
    async with serving(limits(max_connections=2), handler) as (server, connect):
        busy = await connect("127.0.0.2")  # connected first, so idle longest once b has talked
        await busy.send(b"hold")
        await until(lambda: handler.seen == [b"hold"])
        other = await connect("127.0.0.3")
        assert await other.ask(b"x") == b"ACK:x"
        await connect("127.0.0.4")
        assert await other.closed_by_server()
        handler.release.set()
        assert await busy.replies(1) == [b"ACK:hold"]
        assert server.stats.counts == {"evicted": 1}


async def test_a_silent_connection_is_closed_when_idle_and_noise_does_not_keep_it() -> None:
    async with serving(limits(idle_seconds=0.3)) as (server, connect):
        silent = await connect("127.0.0.2")
        noisy = await connect("127.0.0.3")
        assert await noisy.ask(b"one") == b"ACK:one"

        async def trickle() -> None:  # bytes outside any frame, until the server hangs up
            with contextlib.suppress(ConnectionError):
                while not noisy.reader.at_eof():
                    noisy.writer.write(b"\r\n")
                    await noisy.writer.drain()
                    await asyncio.sleep(0.02)

        trickling = asyncio.create_task(trickle())
        assert await silent.closed_by_server()
        assert await noisy.closed_by_server()
        await trickling
        assert server.stats.counts == {"idle": 2}


async def test_a_message_started_but_not_finished_in_time_closes_the_connection() -> None:
    handler = Handler()
    mllp = replace(limits(), frame_seconds=0.3)
    async with serving(mllp, handler) as (server, connect):
        peer = await connect("127.0.0.2")
        assert await peer.ask(b"whole") == b"ACK:whole"
        peer.writer.write(b"\x0bMSH|")

        async def dribble() -> None:  # more of the same message, never its end
            with contextlib.suppress(ConnectionError):
                while not peer.reader.at_eof():
                    peer.writer.write(b"x")
                    await peer.writer.drain()
                    await asyncio.sleep(0.02)

        dribbling = asyncio.create_task(dribble())
        assert await peer.closed_by_server()
        await dribbling
        assert handler.seen == [b"whole"]
        assert server.stats.counts == {"unfinished_frame": 1}


async def test_over_the_rate_every_frame_still_gets_its_ack_in_order() -> None:
    handler = Handler()
    mllp = replace(limits(), frames_per_second=10)  # a burst of 10, then 10 a second
    async with serving(mllp, handler) as (server, connect):
        peer = await connect("127.0.0.2")
        peer.writer.write(b"".join(frame(b"m%d" % n) for n in range(25)))
        replies = await peer.replies(25)
        assert replies == [b"ACK:m%d" % n for n in range(25)]
        assert handler.seen == [b"m%d" % n for n in range(25)]
        assert 1 <= server.stats.counts["slowed"] <= 15  # only frames past the burst waited
        assert set(server.stats.counts) == {"slowed"}  # none refused, none closed


async def test_only_allowed_addresses_may_send() -> None:
    handler = Handler()
    mllp = limits(allow=AllowList.parse("127.0.0.1,127.0.0.8/29"))
    async with serving(mllp, handler) as (server, connect):
        assert await (await connect("127.0.0.1")).ask(b"ris") == b"ACK:ris"
        assert await (await connect("127.0.0.9")).ask(b"ris2") == b"ACK:ris2"
        stranger = await connect("127.0.0.2")
        await stranger.send(b"MSH|forged report")
        assert await stranger.closed_by_server()
        assert handler.seen == [b"ris", b"ris2"]
        assert server.stats.counts == {"not_allowed": 1}


async def test_refusals_are_counted_each_and_logged_once_per_peer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="notifier.peers")
    async with serving(limits(allow=AllowList.parse("127.0.0.1"))) as (server, connect):
        for source in ("127.0.0.2",) * 5 + ("127.0.0.3",):
            assert await (await connect(source)).closed_by_server()
        assert server.stats.counts == {"not_allowed": 6}
    lines = [r.getMessage() for r in caplog.records if r.name == "notifier.peers"]
    assert lines == [
        "mllp listener, 127.0.0.2: refused: the address is not on the allow-list [not_allowed]",
        "mllp listener, 127.0.0.3: refused: the address is not on the allow-list [not_allowed]",
    ]


async def test_a_sender_that_does_not_read_our_answers_is_closed() -> None:
    mllp = replace(limits(), frame_seconds=0.3)
    async with serving(mllp) as (server, connect):
        peer = await connect("127.0.0.2")
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await peer.send(b"big")  # 8 MiB back, more than the kernel buffers between us
        await until(lambda: server.stats.counts["not_reading"] == 1)
        await until(lambda: len(server.gate) == 0)


async def test_closing_the_listener_closes_every_connection() -> None:
    async with serving(limits()) as (server, connect):
        peers = [await connect(f"127.0.0.{n}") for n in (2, 3)]
        assert await peers[0].ask(b"a") == b"ACK:a"
        server.close()
        await server.wait_closed()
        assert [await p.closed_by_server() for p in peers] == [True, True]
        assert server.stats.open == 0
