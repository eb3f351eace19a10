"""Who may talk to a hospital listener and how fast: allow-lists, token buckets, refusal counts."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Clock = Callable[[], float]
LOG_EVERY_SECONDS = 60.0
# Per-peer state is kept for this many addresses at most, so a sender with many addresses
# (an IPv6 prefix) cannot grow it without bound; the oldest are forgotten first.
MAX_PEERS = 4096
# What the limits did, as /metrics labels and as the log says it.
REASONS = {
    "not_allowed": "refused: the address is not on the allow-list",
    "peer_cap": "refused: too many connections from this address",
    "full": "refused: at the connection cap and no connection idle to make room",
    "evicted": "closed the connection idle longest to make room",
    "idle": "closed: idle",
    "unfinished_frame": "closed: a message started but not finished in time",
    "too_large": "closed: a message over the size limit",
    "not_reading": "closed: our answer was not read in time",
    "slowed": "slowed down: over the message rate",
    "rate_limited": "refused a request: over the request rate (429)",
    "busy": "refused a request: too many requests in flight (503)",
}


def peer_address(peername: object) -> str:
    """The address part of a socket's peer name; an IPv4-mapped IPv6 address as plain IPv4."""
    host = peername[0] if isinstance(peername, tuple) and peername else peername
    text = str(host or "")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True)
class AllowList:
    """Addresses and networks that may connect; empty means anyone."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> AllowList:
        """``10.0.5.12, 10.0.6.0/24, fd00::/64`` (empty: anyone); ValueError names a bad item."""
        if not raw.strip():
            return cls()
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not items:
            raise ValueError("names no address")
        networks: list[Network] = []
        for item in items:
            try:
                networks.append(ipaddress.ip_network(item))
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network ({exc})") from None
        return cls(tuple(networks))

    @property
    def anyone(self) -> bool:
        """No list: every address may connect."""
        return not self.networks

    def allows(self, peer: str) -> bool:
        """Whether ``peer`` (as ``peer_address`` gives it) is on the list."""
        if self.anyone:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __str__(self) -> str:
        return ",".join(str(n) for n in self.networks) or "anyone"


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst``; ``take`` says how long to wait."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self._rate = rate
        self._burst = max(burst, 1.0)
        self._tokens = self._burst
        self._clock = clock
        self._at = clock()

    def take(self) -> float:
        """Take one token: 0 when one was there, else the seconds until it will have been."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def refund(self) -> None:
        """Give back a token taken for something that was not done."""
        self._tokens = min(self._burst, self._tokens + 1.0)


class PeerBuckets:
    """One token bucket per peer address (the least recently seen forgotten past MAX_PEERS)."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, peer: str) -> float:
        """Seconds ``peer`` must wait before this request would be within its rate (0: go)."""
        bucket = self._buckets.pop(peer, None) or TokenBucket(self._rate, self._burst, self._clock)
        self._buckets[peer] = bucket
        while len(self._buckets) > MAX_PEERS:
            self._buckets.popitem(last=False)
        wait = bucket.take()
        if wait > 0:
            bucket.refund()  # a refused request does not use up the peer's next turn
        return wait


class GuardStats:
    """What one listener's limits did, by reason, and how many connections it holds now.

    Each refusal or closing is counted; it is logged with the peer's address and the reason
    only, at most once per peer a minute (with how many were not logged since), so a flood
    cannot fill the log either.
    """

    def __init__(self, listener: str, clock: Clock = time.monotonic) -> None:
        self.listener = listener
        self.counts: Counter[str] = Counter()
        self.accepted = 0  # connections the listener has looked at, admitted or not
        self.open = 0
        self._clock = clock
        self._logged: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def note(self, peer: str, reason: str) -> None:
        """Count one ``reason`` for ``peer`` and log it unless this peer was logged lately."""
        self.counts[reason] += 1
        now = self._clock()
        last = self._logged.pop(peer, None)
        if last is not None and now - last[0] < LOG_EVERY_SECONDS:
            self._logged[peer] = (last[0], last[1] + 1)
            return
        self._logged[peer] = (now, 0)
        while len(self._logged) > MAX_PEERS:
            self._logged.popitem(last=False)
        more = f"; {last[1]} more not logged in the last minute" if last and last[1] else ""
        what = REASONS.get(reason, reason)
        log.warning("%s listener, %s: %s [%s%s]", self.listener, peer, what, reason, more)


def listener_stats(names: Iterable[str] = ("mllp", "http")) -> dict[str, GuardStats]:
    """One GuardStats per listener, for the process's /metrics."""
    return {name: GuardStats(name) for name in names}
