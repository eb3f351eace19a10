"""Connection limits for a listening socket: allow-list, caps, eviction of the idle, idle timeout.

``ConnectionGate.wrap`` wraps any asyncio protocol factory (an MLLP stream, aiohttp's server),
so one admission rule serves both hospital listeners. A new connection is closed at once when
its address is not allowed or already holds ``max_per_peer`` connections. When the listener
holds ``max_connections``, the connection idle longest (the one whose last completed exchange,
or whose start, is oldest) is closed to make room, so idle sockets cannot lock the RIS out; only
when every connection is in the middle of handling a message is the newcomer closed instead.

No grace protects a new connection from that eviction. A grace would have to refuse newcomers
while every connection is newer than it, and then an attacker who opens connections faster than
the cap divided by the grace holds every slot for good; without one, the RIS's new connection is
the last to go, and an attacker would have to open the cap's worth of connections in the moment
between the RIS connecting and its message ending.

A connection that completes no exchange (an MLLP frame answered, an HTTP request served) for
``idle_seconds`` is closed. Bytes that complete nothing do not count as activity: a sender
cannot keep a socket by trickling noise or headers.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from notifier.peers import AllowList, GuardStats, peer_address

ProtocolFactory = Callable[[], asyncio.Protocol]
# Connections the kernel queues before we accept them. Small, because each accepted socket
# holds a file descriptor until the gate has looked at it, and a flood accepts a whole queue.
BACKLOG = 32


def shut(transport: asyncio.BaseTransport) -> None:
    """Close ``transport``; drop what it still has to send if the peer is not reading (a
    plain close would wait for that peer forever, holding the socket)."""
    if isinstance(transport, asyncio.WriteTransport) and transport.get_write_buffer_size():
        transport.abort()
    else:
        transport.close()


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections, from whom, and how long one may do nothing."""

    max_connections: int = 64
    max_per_peer: int = 8
    idle_seconds: float = 60.0
    allow: AllowList = field(default_factory=AllowList)


class Connection:
    """One admitted connection: its peer, when it last completed an exchange, whether busy."""

    def __init__(self, gate: ConnectionGate, transport: asyncio.BaseTransport, peer: str) -> None:
        self.peer = peer
        self.transport = transport
        self._gate = gate
        self._loop = asyncio.get_running_loop()
        self.last = self._loop.time()
        self._busy = 0
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        self._arm()

    @contextmanager
    def working(self) -> Iterator[None]:
        """Not idle (neither timed out nor evicted) while inside; an exchange completed after."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1
            self.touch()

    def touch(self) -> None:
        """An exchange completed now: the idle time starts again."""
        self.last = self._loop.time()
        self._arm()

    @property
    def working_now(self) -> bool:
        """Inside ``working``: neither timed out nor evicted."""
        return self._busy > 0

    def note(self, reason: str) -> None:
        """Count (and maybe log) something the limits did to this connection."""
        self._gate.stats.note(self.peer, reason)

    def close(self, reason: str) -> None:
        """Close the connection, counted and logged as ``reason``."""
        if not self.closed:
            self._gate.stats.note(self.peer, reason)
            shut(self.transport)
        self._forget()

    def _forget(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        if self._timer is None and not self._busy and not self.closed:
            deadline = self.last + self._gate.limits.idle_seconds
            self._timer = self._loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self._busy or self.closed:
            return  # working: ``working`` re-arms when it ends
        if self._loop.time() < self.last + self._gate.limits.idle_seconds:
            self._arm()  # touched since this timer was set
            return
        self.close("idle")


class ConnectionGate:
    """Admits, tracks and closes the connections of one listener (see the module docstring)."""

    def __init__(self, limits: ConnectionLimits, stats: GuardStats) -> None:
        self.limits = limits
        self.stats = stats
        self._connections: dict[asyncio.BaseTransport, Connection] = {}
        self._per_peer: Counter[str] = Counter()

    def wrap(self, factory: ProtocolFactory) -> ProtocolFactory:
        """A protocol factory for ``loop.create_server`` that passes ``factory``'s protocols
        only the connections this gate admits."""
        return lambda: _GuardedProtocol(self, factory())

    def connection_of(self, transport: asyncio.BaseTransport | None) -> Connection | None:
        """The admitted connection on ``transport`` (None once it is closed)."""
        return self._connections.get(transport) if transport is not None else None

    def close_all(self) -> None:
        """Close every connection (the listener is stopping)."""
        for connection in list(self._connections.values()):
            shut(connection.transport)

    def __len__(self) -> int:
        return len(self._connections)

    def admit(self, transport: asyncio.BaseTransport) -> Connection | None:
        """The new connection on ``transport``, or None after closing it (the reason noted)."""
        peer = peer_address(transport.get_extra_info("peername"))
        self.stats.accepted += 1
        reason = self._refusal(peer)
        if reason is not None:
            self.stats.note(peer, reason)
            shut(transport)
            return None
        connection = Connection(self, transport, peer)
        self._connections[transport] = connection
        self._per_peer[peer] += 1
        self.stats.open = len(self._connections)
        return connection

    def forget(self, transport: asyncio.BaseTransport) -> None:
        """The connection on ``transport`` is gone."""
        connection = self._connections.pop(transport, None)
        if connection is None:
            return
        connection._forget()
        self._per_peer[connection.peer] -= 1
        if self._per_peer[connection.peer] <= 0:
            del self._per_peer[connection.peer]
        self.stats.open = len(self._connections)

    def _refusal(self, peer: str) -> str | None:
        if not self.limits.allow.allows(peer):
            return "not_allowed"
        if self._per_peer[peer] >= self.limits.max_per_peer:
            return "peer_cap"
        if len(self._connections) < self.limits.max_connections:
            return None
        victim = self._longest_idle()
        if victim is None:
            return "full"
        victim.close("evicted")
        self.forget(victim.transport)  # its slot is the newcomer's now, before the loop says so
        return None

    def _longest_idle(self) -> Connection | None:
        idle = [c for c in self._connections.values() if not c.working_now]
        return min(idle, key=lambda connection: connection.last) if idle else None


class _GuardedProtocol(asyncio.Protocol):
    """Hands the inner protocol an admitted connection's events, and nothing of a refused one."""

    def __init__(self, gate: ConnectionGate, inner: asyncio.Protocol) -> None:
        self._gate = gate
        self._inner = inner
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._admitted = self._gate.admit(transport) is not None
        if self._admitted:
            self._transport = transport
            self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._admitted:
            self._gate.forget(self._transport)
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()
