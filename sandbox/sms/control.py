"""The sandbox's control API in Python: accounts, faults, delivery progress, inboxes, counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .forward import check_url
from .text import canonical_mobile
from .world import GATEWAYS, MAX_HANG, Faults, Inbound, Message, RequestRecord, World

if TYPE_CHECKING:
    from collections import Counter


def _mobile(number: str) -> str:
    mobile = canonical_mobile(number)
    if mobile is None:
        raise ValueError("not a mobile number the gateways accept")
    return mobile


def _gateways(gateway: str | None) -> tuple[str, ...]:
    return GATEWAYS if gateway is None else (gateway,)


class SmsControl:
    """What a test or the demo does to the fake gateways (also served under /_sandbox/)."""

    def __init__(self, world: World) -> None:
        self.world = world

    # --- accounts --------------------------------------------------------------------------

    def add_key(self, gateway: str, key: str) -> None:
        """Register an API key; requests with any other key get 401."""
        self.world.gateway(gateway).keys.add(key)

    def add_line(self, gateway: str, line: str) -> None:
        """Register a sender line (Kavenegar ``sender``, SMS.ir ``lineNumber``)."""
        lines = self.world.gateway(gateway).lines
        if line not in lines:
            lines.append(line)

    def add_template(self, gateway: str, template: str | int, text: str) -> None:
        """Register an approved template: Kavenegar by name with ``%token`` placeholders,
        SMS.ir by numeric id with ``#NAME#`` placeholders."""
        self.world.gateway(gateway).templates[str(template)] = text

    def set_credit(self, gateway: str, amount: int) -> None:
        """Set the account's credit (0 exhausts it: Kavenegar 418, SMS.ir 102)."""
        self.world.gateway(gateway).credit = amount

    def credit(self, gateway: str) -> int:
        """The account's remaining credit."""
        return self.world.gateway(gateway).credit

    # --- faults ----------------------------------------------------------------------------

    def faults(self, gateway: str) -> Faults:
        """The gateway's current faults (a live object; change it freely)."""
        return self.world.gateway(gateway).faults

    def hang_next(
        self, gateway: str, count: int = 1, seconds: float = 2.0, *, then_process: bool = True
    ) -> None:
        """The next ``count`` requests wait ``seconds`` (at most 30) before being answered.

        With ``then_process`` the request is then handled as usual (a client that timed out
        does not know its message went out); otherwise it is answered 504 and has no effect.
        """
        if not 0 <= seconds <= MAX_HANG:
            raise ValueError(f"seconds must be between 0 and {MAX_HANG}")
        faults = self.faults(gateway)
        faults.hang_count, faults.hang_seconds = count, seconds
        faults.hang_then_process = then_process

    def fail_next(
        self, gateway: str, count: int = 1, status: int = 500, *, retry_after: float | None = None
    ) -> None:
        """The next ``count`` requests are answered with ``status`` (500, 502, 409, 429 …),
        with a ``Retry-After`` header when ``retry_after`` is given."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        faults = self.faults(gateway)
        faults.fail_count, faults.fail_status, faults.retry_after = count, status, retry_after

    def mark_invalid(self, number: str, gateway: str | None = None) -> None:
        """Refuse this number as a receptor (Kavenegar 411, SMS.ir 104)."""
        for name in _gateways(gateway):
            self.faults(name).invalid_numbers.add(_mobile(number))

    def mark_undeliverable(self, number: str, gateway: str | None = None) -> None:
        """Messages accepted from now on for this number end undelivered (phone off)."""
        for name in _gateways(gateway):
            self.faults(name).undeliverable_numbers.add(_mobile(number))

    def release_hangs(self) -> None:
        """End every hang in progress now."""
        self.world.release_hangs()

    async def wait_idle(self, seconds: float = 5.0) -> None:
        """Wait until every request in flight (a hung one too) has been answered
        (TimeoutError after ``seconds``)."""
        await self.world.wait_idle(seconds)

    # --- phones answering: inbound SMS ------------------------------------------------------

    def phone_sends(
        self, number: str, text: str, *, gateway: str = "kavenegar", line: str | None = None
    ) -> Inbound:
        """The phone ``number`` sends ``text`` to our ``line`` (default: the gateway's first):
        the gateway keeps it for its receive API. ``number`` is presented as given (09…, 98…,
        +98…), as operators differ. Forwarding is ``SmsSandbox.text_us``'s."""
        _mobile(number)
        account = self.world.gateway(gateway)
        chosen = line or account.lines[0]
        if chosen not in account.lines:
            raise ValueError(f"{chosen!r} is not one of {gateway}'s lines")
        return self.world.receive(account, number.strip(), text, chosen)

    def set_forward_url(self, url: str | None, *, method: str = "GET") -> None:
        """Kavenegar forwards every SMS a phone sends from now on to ``url`` (loopback only;
        None: no forwarding), as GET query or POST form fields messageid, from, to, message."""
        if method not in ("GET", "POST"):
            raise ValueError("method must be GET or POST")
        account = self.world.gateway("kavenegar")
        account.forward_url = None if url is None else check_url(url)
        account.forward_method = method

    def inbound(self, gateway: str | None = None) -> list[Inbound]:
        """Every SMS phones sent to the gateways' lines, oldest first, with whether it was
        handed over (Kavenegar's read flag) and each forward's HTTP status."""
        return [m for m in self.world.inbound if gateway in (None, m.gateway)]

    # --- delivery, inboxes, logs -----------------------------------------------------------

    def advance(self, steps: int = 1, gateway: str | None = None) -> int:
        """Move messages one step per ``steps``: queued → sent → delivered (or undelivered)."""
        if gateway is not None:
            self.world.gateway(gateway)
        return self.world.advance(steps, gateway)

    def inbox(self, number: str) -> list[Message]:
        """Every message a gateway accepted for ``number`` (any accepted form), with its status."""
        return self.world.inbox(_mobile(number))

    def messages(self, gateway: str | None = None) -> list[Message]:
        """Every accepted message, oldest first."""
        return [m for m in self.world.messages if gateway in (None, m.gateway)]

    def requests(self, gateway: str | None = None) -> list[RequestRecord]:
        """Every request received, oldest first, failed and faulted ones included."""
        return [r for r in self.world.requests if gateway in (None, r.gateway)]

    @property
    def counters(self) -> Counter[str]:
        """``<gateway>.requests``, ``.<endpoint>``, ``.accepted``, ``.deduplicated``,
        ``.rejected``, ``.hangs``, ``.failures``, ``.received`` (SMS from phones)."""
        return self.world.counters

    def count(self, gateway: str, name: str) -> int:
        """One counter, e.g. ``count("kavenegar", "accepted")``."""
        return self.world.counters[f"{gateway}.{name}"]

    def reset(self) -> None:
        """Forget messages, requests, counters, faults; restore credit. Keys, lines and
        templates stay registered."""
        self.world.reset()
