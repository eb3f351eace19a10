"""Limits of the HTTP listener (health, metrics, the HIS webhook): connections, rate, in flight.

aiohttp 3.14 closes a connection that sends no complete request within ``keepalive_timeout``
(counted from the connection's start, so headers sent byte by byte do not extend it), but that
timeout defaults to 3630 s, and aiohttp caps neither connections nor requests. So the listener
is served through a ``ConnectionGate`` (caps, eviction of the idle, an idle timeout between
requests that does not depend on the aiohttp version), and a middleware answers 429 with
``Retry-After`` to a peer over its request rate and 503 when too many requests are in flight.
Only the HIS webhook has an allow-list (403 for other addresses), so health checks and
Prometheus keep working from anywhere the listener is reachable; its body deadline is in
``notifier.his_webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from notifier.gate import BACKLOG, ConnectionGate, ConnectionLimits
from notifier.his_webhook import PATH
from notifier.peers import AllowList, Clock, GuardStats, PeerBuckets, peer_address

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp.typedefs import Handler, Middleware


def _http_connections() -> ConnectionLimits:
    return ConnectionLimits(max_connections=64, max_per_peer=16, idle_seconds=30.0)


@dataclass(frozen=True)
class HttpLimits:
    """Connections (no allow-list for them: /healthz must answer the orchestrator), who may
    post to the HIS webhook, requests in flight at once, and requests a second per peer
    address (a burst of as many)."""

    connections: ConnectionLimits = field(default_factory=_http_connections)
    webhook_allow: AllowList = field(default_factory=AllowList)
    max_in_flight: int = 16
    requests_per_second: float = 20.0


def _is_webhook(request: web.Request) -> bool:
    # The matched resource, not the raw path, so no spelling of the path gets around the list.
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical == PATH


def _refused(status: int, code: str, message: str, retry_after: float) -> web.Response:
    response = web.json_response({"error": code, "message": message}, status=status)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def guard_middleware(
    limits: HttpLimits,
    stats: GuardStats,
    gate: ConnectionGate | None = None,
    clock: Clock = time.monotonic,
) -> Middleware:
    """The middleware: the webhook's allow-list, the rate per peer, then requests in flight;
    the connection counts as working (neither idle nor evictable) while its request is."""
    buckets = PeerBuckets(limits.requests_per_second, limits.requests_per_second, clock)
    in_flight = 0

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        peer = peer_address(request.remote)
        connection = gate.connection_of(request.transport) if gate is not None else None
        with connection.working() if connection is not None else contextlib.nullcontext():
            if _is_webhook(request) and not limits.webhook_allow.allows(peer):
                stats.note(peer, "not_allowed")
                message = "this address may not send hospital events"
                return web.json_response({"error": "not_allowed", "message": message}, status=403)
            wait = buckets.take(peer)
            if wait > 0:
                stats.note(peer, "rate_limited")
                return _refused(429, "rate_limited", "too many requests; retry later", wait)
            if in_flight >= limits.max_in_flight:
                stats.note(peer, "busy")
                return _refused(503, "busy", "too many requests at once; retry later", 1)
            in_flight += 1
            try:
                return await handler(request)
            finally:
                in_flight -= 1

    return guard


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, host: str, port: int, gate: ConnectionGate
) -> AsyncIterator[asyncio.Server]:
    """Serve ``app`` on ``host:port`` through ``gate`` until the block ends."""
    # The gate closes idle connections; aiohttp's own timer, set later, is only a backstop.
    backstop = 2 * gate.limits.idle_seconds
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=backstop)
    await runner.setup()
    try:
        assert runner.server is not None  # set by setup()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(gate.wrap(runner.server), host, port, backlog=BACKLOG)
        try:
            yield server
        finally:
            server.close()
    finally:
        await runner.cleanup()  # closes the connections aiohttp still holds
