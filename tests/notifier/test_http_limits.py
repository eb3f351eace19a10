"""The HTTP listener's limits over real sockets: allow-list, rate, in flight, idle, caps."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from notifier.gate import ConnectionGate, ConnectionLimits
from notifier.his_webhook import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, sign
from notifier.http_guard import HttpLimits, guard_middleware, serving
from notifier.peers import AllowList, GuardStats
from notifier.web import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from tests.conftest import ClinicEnv

SECRET = b"his-shared-secret-for-tests-0001"
WAIT = 10.0  # generous: each wait ends as soon as its condition holds


class Clock:
    """Time for the request-rate buckets: stands still unless a test moves it."""

    now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Listener:
    url: str
    port: int
    stats: GuardStats
    gate: ConnectionGate
    clock: Clock
    slow_started: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


def http_limits(
    *,
    max_connections: int = 32,
    max_per_peer: int = 32,
    idle_seconds: float = 60,
    allow: str = "",
    max_in_flight: int = 16,
    rate: float = 1000,
) -> HttpLimits:
    return HttpLimits(
        connections=ConnectionLimits(max_connections, max_per_peer, idle_seconds),
        webhook_allow=AllowList.parse(allow),
        max_in_flight=max_in_flight,
        requests_per_second=rate,
    )


@contextlib.asynccontextmanager
async def listening(env: ClinicEnv, limits: HttpLimits) -> AsyncIterator[Listener]:
    """The real app behind the real guard, plus ``/test/slow``, which waits for ``release``."""
    stats, clock = GuardStats("http"), Clock()
    gate = ConnectionGate(limits.connections, stats)
    webhook = WebhookConfig(secret=SECRET, read_seconds=limits.connections.idle_seconds)
    guard = guard_middleware(limits, stats, gate, clock)
    app = create_app(env.uow, webhook, guard=guard, listeners={"http": stats})
    listener: Listener | None = None

    async def slow(_request: web.Request) -> web.Response:
        assert listener is not None
        listener.slow_started += 1
        await listener.release.wait()
        return web.json_response({"slow": "done"})

    app.router.add_get("/test/slow", slow)
    async with serving(app, "127.0.0.1", 0, gate) as server:
        port = int(server.sockets[0].getsockname()[1])
        listener = Listener(f"http://127.0.0.1:{port}", port, stats, gate, clock)
        yield listener


@contextlib.asynccontextmanager
async def client(source: str) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def signed(env: ClinicEnv, body: bytes) -> dict[str, str]:
    stamp = int(env.clock.now().timestamp())
    return {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(SECRET, stamp, body)}


async def raw(
    listener: Listener, source: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", listener.port, local_addr=(source, 0))


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    got = b""
    async with asyncio.timeout(WAIT):
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                got += data
    return got


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something the server does after our part is done."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached in time")


async def test_the_webhook_answers_only_allowed_addresses_and_health_answers_anyone(
    sqlite_env: ClinicEnv,
) -> None:
    env = sqlite_env
    body = json.dumps({"accession_number": "RAD-9", "status": "final"}).encode()
    async with listening(env, http_limits(allow="127.0.0.1")) as listener:
        async with client("127.0.0.2") as stranger:
            for path in (PATH, "/api/v1/events/%72eport"):  # no spelling of the path gets by
                async with stranger.post(
                    listener.url + path, data=body, headers=signed(env, body)
                ) as r:
                    assert (r.status, (await r.json())["error"]) == (403, "not_allowed")
            async with stranger.get(listener.url + "/healthz") as r:
                assert r.status == 200
        async with (
            client("127.0.0.1") as his,
            his.post(listener.url + PATH, data=body, headers=signed(env, body)) as r,
        ):
            assert (r.status, (await r.json())["outcome"]) == (202, "unmatched")
        assert listener.stats.counts == {"not_allowed": 2}


async def test_over_its_rate_a_peer_gets_429_with_retry_after(sqlite_env: ClinicEnv) -> None:
    async with listening(sqlite_env, http_limits(rate=3)) as listener:
        async with client("127.0.0.2") as fast:
            statuses = []
            for _ in range(4):
                async with fast.get(listener.url + "/healthz") as r:
                    statuses.append(r.status)
                    if r.status == 429:
                        assert r.headers["Retry-After"] == "1"
                        assert (await r.json())["error"] == "rate_limited"
            assert statuses == [200, 200, 200, 429]
            async with client("127.0.0.3") as other, other.get(listener.url + "/healthz") as r:
                assert r.status == 200  # another address has its own rate
            listener.clock.now += 1 / 3
            async with fast.get(listener.url + "/healthz") as r:
                assert r.status == 200  # its next turn came
        assert listener.stats.counts == {"rate_limited": 1}


async def test_past_the_requests_in_flight_the_next_gets_503(sqlite_env: ClinicEnv) -> None:
    async with listening(sqlite_env, http_limits(max_in_flight=2)) as listener:
        async with client("127.0.0.2") as session:
            slow = [
                asyncio.create_task(session.get(listener.url + "/test/slow")) for _ in range(2)
            ]
            await until(lambda: listener.slow_started == 2)
            async with session.get(listener.url + "/healthz") as r:
                assert (r.status, r.headers["Retry-After"]) == (503, "1")
                assert (await r.json())["error"] == "busy"
            listener.release.set()
            for task in slow:
                async with await task as r:
                    assert r.status == 200
            async with session.get(listener.url + "/healthz") as r:
                assert r.status == 200
        assert listener.stats.counts == {"busy": 1}


async def test_silent_and_slow_header_connections_are_closed_but_a_slow_request_is_not(
    sqlite_env: ClinicEnv,
) -> None:
    async with listening(sqlite_env, http_limits(idle_seconds=0.3)) as listener:
        async with client("127.0.0.4") as session:
            slow = asyncio.create_task(session.get(listener.url + "/test/slow"))
            await until(lambda: listener.slow_started == 1)
            silent_reader, silent = await raw(listener, "127.0.0.2")
            trickle_reader, trickle = await raw(listener, "127.0.0.3")

            async def headers_byte_by_byte() -> None:
                with contextlib.suppress(ConnectionError):
                    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4000:
                        if trickle_reader.at_eof():
                            return
                        trickle.write(bytes([byte]))
                        await trickle.drain()
                        await asyncio.sleep(0.02)

            trickling = asyncio.create_task(headers_byte_by_byte())
            assert await closed_by_server(silent_reader) == b""
            assert await closed_by_server(trickle_reader) == b""
            await trickling
            listener.release.set()  # held longer than the idle time, and still answered
            async with await slow as r:
                assert (r.status, await r.json()) == (200, {"slow": "done"})
        for writer in (silent, trickle):
            writer.close()
        assert listener.stats.counts == {"idle": 2}


async def test_at_the_connection_caps_the_newcomer_or_the_idle_longest_goes(
    sqlite_env: ClinicEnv,
) -> None:
    limits = http_limits(max_connections=2, max_per_peer=1)
    async with listening(sqlite_env, limits) as listener:
        first_reader, first = await raw(listener, "127.0.0.2")
        _, second = await raw(listener, "127.0.0.3")
        await until(lambda: len(listener.gate) == 2)
        again_reader, again = await raw(listener, "127.0.0.2")
        assert await closed_by_server(again_reader) == b""  # its address already has one
        newcomer_reader, newcomer = await raw(listener, "127.0.0.4")
        assert await closed_by_server(first_reader) == b""  # idle longest: made room
        newcomer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await closed_by_server(newcomer_reader)
        assert answer.startswith(b"HTTP/1.1 200 ")
        for writer in (first, second, again, newcomer):
            writer.close()
        assert listener.stats.counts == {"peer_cap": 1, "evicted": 1}


async def test_a_webhook_body_that_does_not_arrive_in_time_gets_408(
    sqlite_env: ClinicEnv,
) -> None:
    async with listening(sqlite_env, http_limits(idle_seconds=0.3)) as listener:
        reader, writer = await raw(listener, "127.0.0.1")
        head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        writer.write(head.encode() + b"Content-Length: 100\r\n\r\n" + b'{"accession')
        answer = await closed_by_server(reader)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"error": "slow_body"' in answer


async def test_metrics_show_what_the_limits_did(sqlite_env: ClinicEnv) -> None:
    async with (
        listening(sqlite_env, http_limits(rate=1)) as listener,
        client("127.0.0.2") as session,
    ):
        for _ in range(3):
            async with session.get(listener.url + "/healthz"):
                pass
        async with session.get(listener.url + "/metrics") as r:
            assert r.status == 429
        listener.clock.now += 10
        async with session.get(listener.url + "/metrics") as r:
            text = await r.text()
    assert 'radyar_listener_limited_total{listener="http",reason="rate_limited"} 3' in text
    assert 'radyar_listener_connections{listener="http"} 1' in text
