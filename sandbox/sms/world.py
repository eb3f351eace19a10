"""The sandbox's state: an account per gateway, messages and inboxes, request log, counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .text import parts

GATEWAYS = ("kavenegar", "smsir")
STAGES = ("queued", "sent", "delivered", "undelivered")
MAX_HANG = 30.0  # seconds: a hang never outlives this, whatever a test asks for

Clock = Callable[[], float]


@dataclass
class Message:
    """One SMS a gateway accepted for one number (its inbox entry)."""

    id: int
    gateway: str
    mobile: str
    text: str
    sender: str
    template: str | None
    time: float
    parts: int
    cost: int
    localid: str | None = None
    kind: str = "sms"
    status: str = "queued"
    status_time: float | None = None
    fails: bool = False  # the number is configured as undeliverable

    def to_json(self) -> dict[str, Any]:
        """The inbox entry as JSON (for the control API)."""
        data = asdict(self)
        del data["fails"]
        return data


@dataclass
class Inbound:
    """An SMS a phone sent to one of a gateway's lines: what its receive API hands over (and
    Kavenegar forwards, when a URL is set)."""

    id: int
    gateway: str
    sender: str  # as the operator presents the number (09…, 98…, +98…)
    line: str
    text: str
    time: float
    read: bool = False  # Kavenegar's sms/receive with isread=0 hands it over once
    forwards: list[int] = field(default_factory=list)  # HTTP status of each forward

    def to_json(self) -> dict[str, Any]:
        """The message as JSON (for the control API)."""
        return asdict(self)


@dataclass
class RequestRecord:
    """One request as a gateway saw it (the API key is never kept)."""

    seq: int
    time: float
    gateway: str
    http_method: str
    endpoint: str
    params: dict[str, Any]
    status: int = 0
    code: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (for the control API)."""
        return asdict(self)


@dataclass
class Failure:
    """An injected failure: the HTTP status to answer with, and a Retry-After if any."""

    status: int
    retry_after: float | None = None


@dataclass
class Faults:
    """What goes wrong at one gateway, set at run time."""

    hang_count: int = 0
    hang_seconds: float = 2.0
    hang_then_process: bool = True
    fail_count: int = 0
    fail_status: int = 500
    retry_after: float | None = None
    invalid_numbers: set[str] = field(default_factory=set)
    undeliverable_numbers: set[str] = field(default_factory=set)


@dataclass
class Gateway:
    """One gateway's account: keys, sender lines, templates, credit, faults."""

    name: str
    keys: set[str]
    lines: list[str]
    initial_credit: int
    price_per_part: int
    templates: dict[str, str] = field(default_factory=dict)
    credit: int = 0
    faults: Faults = field(default_factory=Faults)
    localids: dict[str, Message] = field(default_factory=dict)
    forward_url: str | None = None  # Kavenegar: where each inbound SMS is forwarded
    forward_method: str = "GET"

    def __post_init__(self) -> None:
        self.credit = self.initial_credit


class World:
    """Everything the fake gateways know; handlers change it without awaiting in between."""

    def __init__(self, gateways: dict[str, Gateway], wallclock: Clock) -> None:
        self.gateways = gateways
        self.wallclock = wallclock
        self.messages: list[Message] = []
        self.requests: list[RequestRecord] = []
        self.counters: Counter[str] = Counter()
        self.inbound: list[Inbound] = []
        self._next_id = {"kavenegar": 8_792_340, "smsir": 410_000_000}
        self._next_inbound = {"kavenegar": 5_120_000, "smsir": 730_000_000}
        self._release = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Count a request in flight for ``wait_idle``."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def wait_idle(self, seconds: float) -> None:
        """Return once no request is in flight (TimeoutError after ``seconds``)."""
        async with asyncio.timeout(seconds):
            await self._idle.wait()

    def gateway(self, name: str) -> Gateway:
        """The gateway called ``name``; ValueError for an unknown one."""
        if name not in self.gateways:
            raise ValueError(f"unknown gateway {name!r}; expected one of {GATEWAYS}")
        return self.gateways[name]

    def log_request(
        self, gateway: str, http_method: str, endpoint: str, params: dict[str, Any]
    ) -> RequestRecord:
        """Record a request (before faults apply) and count it."""
        record = RequestRecord(
            len(self.requests) + 1, self.wallclock(), gateway, http_method, endpoint, params
        )
        self.requests.append(record)
        self.counters[f"{gateway}.requests"] += 1
        self.counters[f"{gateway}.{endpoint}"] += 1
        return record

    def cost(self, gateway: Gateway, text: str, count: int = 1) -> int:
        """What sending ``text`` to ``count`` numbers costs."""
        return parts(text) * gateway.price_per_part * count

    def accept(
        self,
        gateway: Gateway,
        mobile: str,
        text: str,
        *,
        sender: str,
        template: str | None = None,
        localid: str | None = None,
        kind: str = "sms",
    ) -> Message:
        """Charge the account and put the message in the number's inbox (credit checked first)."""
        self._next_id[gateway.name] += 1
        message = Message(
            id=self._next_id[gateway.name],
            gateway=gateway.name,
            mobile=mobile,
            text=text,
            sender=sender,
            template=template,
            time=self.wallclock(),
            parts=parts(text),
            cost=self.cost(gateway, text),
            localid=localid,
            kind=kind,
            fails=mobile in gateway.faults.undeliverable_numbers,
        )
        gateway.credit -= message.cost
        self.messages.append(message)
        if localid is not None:
            gateway.localids[localid] = message
        self.counters[f"{gateway.name}.accepted"] += 1
        return message

    def receive(self, gateway: Gateway, sender: str, text: str, line: str) -> Inbound:
        """A phone's SMS to ``line`` arrives at the gateway (kept for its receive API)."""
        self._next_inbound[gateway.name] += 1
        message = Inbound(
            self._next_inbound[gateway.name], gateway.name, sender, line, text, self.wallclock()
        )
        self.inbound.append(message)
        self.counters[f"{gateway.name}.received"] += 1
        return message

    def find(self, gateway: str, message_id: int) -> Message | None:
        """A message by the id its gateway gave it."""
        for message in self.messages:
            if message.gateway == gateway and message.id == message_id:
                return message
        return None

    def inbox(self, mobile: str) -> list[Message]:
        """Every message any gateway accepted for ``mobile``, oldest first."""
        return [m for m in self.messages if m.mobile == mobile]

    def advance(self, steps: int = 1, gateway: str | None = None) -> int:
        """Move messages along queued → sent → delivered/undelivered; returns how many moved."""
        moved = 0
        for _ in range(steps):
            for message in self.messages:
                if gateway is not None and message.gateway != gateway:
                    continue
                if message.status == "queued":
                    message.status = "sent"
                elif message.status == "sent":
                    message.status = "undelivered" if message.fails else "delivered"
                else:
                    continue
                message.status_time = self.wallclock()
                moved += 1
        return moved

    async def hold(self, seconds: float) -> None:
        """Sleep ``seconds`` (at most MAX_HANG) unless hangs are released first."""
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), min(max(seconds, 0.0), MAX_HANG))

    def release_hangs(self) -> None:
        """End every hang in progress now (later hangs still hang)."""
        self._release.set()
        self._release = asyncio.Event()

    def reset(self) -> None:
        """Forget messages (sent and received), requests, counters and faults; credit back to
        its initial amount."""
        self.release_hangs()
        self.messages.clear()
        self.inbound.clear()
        self.requests.clear()
        self.counters.clear()
        for gateway in self.gateways.values():
            gateway.credit = gateway.initial_credit
            gateway.faults = Faults()
            gateway.localids.clear()


async def apply_faults(world: World, gateway: Gateway) -> Failure | None:
    """Hang and/or fail this request as the gateway's faults say (each use counts down)."""
    faults = gateway.faults
    if faults.hang_count > 0:
        faults.hang_count -= 1
        world.counters[f"{gateway.name}.hangs"] += 1
        await world.hold(faults.hang_seconds)
        if not faults.hang_then_process:
            return Failure(504)
    if faults.fail_count > 0:
        faults.fail_count -= 1
        world.counters[f"{gateway.name}.failures"] += 1
        return Failure(faults.fail_status, faults.retry_after)
    return None
