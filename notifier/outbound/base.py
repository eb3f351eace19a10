"""What every outbound adapter is: a way to tell the hospital's systems of one booking change
(HL7 over MLLP, FHIR over HTTP). The sender (notifier/outbound/sender.py) claims events in
order per referral and records what each adapter says; an adapter only delivers one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking


@dataclass(frozen=True)
class Delivery:
    """What the receiver made of one event.

    ``ok``: taken (HL7 AA, HTTP 2xx). Otherwise ``transient`` says whether sending it again
    may be answered differently (the receiver's own trouble, a time-out, a dropped
    connection); a refusal of the message itself (HL7 AR, AE for a data error, HTTP 4xx)
    stands and is kept for staff. ``answer`` is what staff read: the receiver's code and text,
    never the patient's data.
    """

    ok: bool
    answer: str
    transient: bool = False


class OutboundAdapter(Protocol):
    """One hospital system to tell. ``name`` is the adapter's key in RADYAR_OUTBOUND and in
    outbound_events.adapter."""

    @property
    def name(self) -> str:
        """The adapter's key (hl7_siu, hl7_orm, fhir)."""
        ...

    async def deliver(self, event: OutboundBooking, now: datetime) -> Delivery:
        """Tell the receiver of ``event``. Transport trouble (refused, time-out, dropped) is
        answered as a transient Delivery, not raised."""
        ...

    async def aclose(self) -> None:
        """Close connections the adapter keeps open."""
        ...


__all__ = ["Delivery", "OutboundAdapter"]
