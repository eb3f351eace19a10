"""HL7 v2 over MLLP to the RIS: one connection kept open and reused, one message in flight at
a time (MLLP's own rule: the next message goes once the last one's ACK is in), so one
booking's events arrive in the order they are sent."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from notifier.mllp import READ_SIZE, MllpDecoder, frame
from notifier.outbound.base import Delivery
from notifier.outbound.siu import BadAck, parse_ack, transient

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking

ANSWER_SHOWN = 300  # characters of the receiver's text kept for staff


class Builder(Protocol):
    """A message builder: notifier.outbound.siu.build_siu or notifier.outbound.orm.build_orm."""

    def __call__(self, event: OutboundBooking, *, sending_facility: str, now: datetime) -> bytes:
        """The HL7 message (UTF-8 ER7) telling of ``event``."""
        ...


def control_id(message: bytes) -> str:
    """MSH-10 of an ER7 message we built (its field separator is ``|``)."""
    msh = message.split(b"\r", 1)[0].decode("utf-8")
    fields = msh.split("|")
    return fields[9] if len(fields) > 9 else ""


class MllpAdapter:
    """Tells the RIS of booking events with the messages ``build`` makes (SIU or ORM)."""

    def __init__(
        self,
        name: str,
        build: Builder,
        host: str,
        port: int,
        *,
        sending_facility: str = "RADYAR",
        connect_seconds: float = 5.0,
        ack_seconds: float = 30.0,
    ) -> None:
        self._name = name
        self._build = build
        self._host, self._port = host, port
        self._facility = sending_facility
        self._connect_seconds = connect_seconds
        self._ack_seconds = ack_seconds
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = MllpDecoder()
        self.connections = 0  # opened so far (a benchmark reads it: one for a whole run)

    @property
    def name(self) -> str:
        """hl7_siu or hl7_orm."""
        return self._name

    async def deliver(self, event: OutboundBooking, now: datetime) -> Delivery:
        """Send ``event``'s message and read the ACK: AA taken; AE/AR kept with the code and
        text (tried again only for the receiver's own trouble); time-outs, dropped
        connections and unreadable or mismatched answers tried again on a new connection."""
        # hl7apy takes some 20 ms of CPU to build and check one message: off the event loop,
        # so the bot beside it (radyar run) waits at most a thread switch (5 ms), not a build.
        message = await asyncio.to_thread(
            self._build, event, sending_facility=self._facility, now=now
        )
        ours = control_id(message)
        try:
            reply = await self._exchange(message)
        except TimeoutError:
            await self.aclose()  # a late ACK must not be read as the next message's
            return Delivery(False, "no acknowledgement in time", transient=True)
        except OSError as exc:  # refused, reset, closed mid-message (ConnectionError too)
            await self.aclose()
            return Delivery(False, f"connection: {exc.__class__.__name__}", transient=True)
        try:
            ack = parse_ack(reply)
        except BadAck as exc:
            await self.aclose()
            return Delivery(False, f"unreadable answer: {exc}", transient=True)
        if ack.control_id != ours:
            await self.aclose()
            return Delivery(False, "an answer to another message", transient=True)
        # The code and where the receiver found fault as sent; its text, which may quote the
        # message, apart (stored masked).
        answer = " ".join([ack.code, "; ".join(ack.errors)]).strip()
        said = ack.text[:ANSWER_SHOWN]
        if ack.code == "AA":
            return Delivery(True, answer, said=said)
        return Delivery(False, answer, transient=transient(ack), said=said)

    async def _exchange(self, message: bytes) -> bytes:
        if self._writer is None or self._writer.is_closing():
            async with asyncio.timeout(self._connect_seconds):
                self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
            self._decoder = MllpDecoder()
            self.connections += 1
        reader, writer = self._reader, self._writer
        assert reader is not None
        async with asyncio.timeout(self._ack_seconds):
            writer.write(frame(message))
            await writer.drain()
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError("the receiver closed the connection")
                replies = self._decoder.feed(data)
                if replies:
                    return replies[0]
                if self._decoder.too_large:
                    raise ConnectionAbortedError("the answer is larger than an ACK can be")

    async def aclose(self) -> None:
        """Close the connection (the next message opens a new one)."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


__all__ = ["Builder", "MllpAdapter", "control_id"]
