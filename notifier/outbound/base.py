"""What every outbound adapter is: a way to tell the hospital's systems of one booking change
(HL7 over MLLP, FHIR over HTTP). The sender (notifier/outbound/sender.py) claims events in
order per referral and records what each adapter says; an adapter only delivers one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from clinic.message_mask import mask

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking


@dataclass(frozen=True)
class Delivery:
    """What the receiver made of one event.

    ``ok``: taken (HL7 AA, HTTP 2xx). Otherwise ``transient`` says whether sending it again
    may be answered differently (the receiver's own trouble, a time-out, a dropped
    connection); a refusal of the message itself (HL7 AR, AE for a data error, HTTP 4xx)
    stands and is kept for staff. ``answer`` is what staff may read as it is: our own words
    and the receiver's codes and places (notifier/outbound/answers.py). ``said`` is the
    receiver's own text (MSA-3, ERR-8, diagnostics), which may quote the message and so a
    patient: what is kept (``shown``) has it masked.
    """

    ok: bool
    answer: str
    transient: bool = False
    said: str = ""

    @property
    def shown(self) -> str:
        """What is stored for staff: ``answer``, then the receiver's text masked (its letters
        ``x``, its long numbers ``#``: its length and punctuation stay)."""
        if not self.said.strip():
            return self.answer
        # Free text, not HL7, even from a RIS: the HL7 masking keeps an MSA or ERR line whole,
        # and a quoted one is exactly what must not be kept.
        masked = mask(self.said, "text")
        return f"{self.answer}: {masked}" if self.answer else masked


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
