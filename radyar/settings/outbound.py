"""Telling the hospital's systems of booking changes: the RIS over HL7 MLLP (SIU schedules or
ORM orders), and how long the sender keeps trying. FHIR and the worklist have their own
modules (``fhir``, ``worklist``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic.outbound_views import OutboundKind
from radyar.settings.fhir import FhirSettings, fhir_settings
from radyar.settings.parse import SettingsError, _int
from radyar.settings.worklist import WorklistSettings, worklist_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

ALL_EVENTS = tuple(kind.value for kind in OutboundKind)
RIS_MESSAGES = {"siu": "hl7_siu", "orm": "hl7_orm"}


@dataclass(frozen=True)
class RisSettings:
    """The RIS's MLLP receiver and what it is told."""

    host: str
    port: int = 2575
    adapter: str = "hl7_siu"  # hl7_siu (SIU^S12/S14/S15/S26) or hl7_orm (ORM^O01)
    sending_facility: str = "RADYAR"  # MSH-4
    connect_seconds: int = 5
    ack_seconds: int = 30
    events: tuple[str, ...] = ALL_EVENTS


@dataclass(frozen=True)
class OutboundSettings:
    """Each adapter that is on, and the sender's patience."""

    ris: RisSettings | None = None  # None: the RIS is not told
    fhir: FhirSettings = field(default_factory=FhirSettings)  # base_url None: not told
    fhir_events: tuple[str, ...] = ALL_EVENTS
    worklist: WorklistSettings = field(default_factory=WorklistSettings)  # port 0: off
    give_up_hours: int = 24  # an event not delivered in this long fails, for staff to see
    lease_seconds: int = 120  # a claimed event not finished in this long is sent again


def events(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The kinds of booking change named in ``name`` (commas; empty: all of them)."""
    raw = env.get(name, "").strip()
    if not raw:
        return ALL_EVENTS
    named = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [kind for kind in named if kind not in ALL_EVENTS]
    if unknown or not named:
        raise SettingsError(
            f"{name} must be some of {', '.join(ALL_EVENTS)} separated by commas, "
            f"got {', '.join(unknown) or raw!r}"
        )
    return named


def _ris(env: Mapping[str, str]) -> RisSettings | None:
    host = env.get("RADYAR_RIS_MLLP_HOST", "").strip()
    if not host:
        return None
    message = (env.get("RADYAR_RIS_MESSAGES") or "siu").strip().lower()
    if message not in RIS_MESSAGES:
        raise SettingsError(f"RADYAR_RIS_MESSAGES must be siu or orm, got {message!r}")
    facility = (env.get("RADYAR_RIS_SENDING_FACILITY") or "RADYAR").strip()
    if not facility.isascii() or any(c in facility for c in "|^~\\&"):
        raise SettingsError("RADYAR_RIS_SENDING_FACILITY must be plain ASCII, without |^~\\&")
    return RisSettings(
        host=host,
        port=_int(env, "RADYAR_RIS_MLLP_PORT", 2575, 1, 65535),
        adapter=RIS_MESSAGES[message],
        sending_facility=facility,
        connect_seconds=_int(env, "RADYAR_RIS_CONNECT_SECONDS", 5, 1, 120),
        ack_seconds=_int(env, "RADYAR_RIS_ACK_SECONDS", 30, 1, 600),
        events=events(env, "RADYAR_RIS_EVENTS"),
    )


def outbound_settings(env: Mapping[str, str]) -> OutboundSettings:
    """The adapters, the worklist and the sender's limits: ``RADYAR_RIS_*``,
    ``RADYAR_FHIR_*``, ``RADYAR_MWL_*`` and ``RADYAR_OUTBOUND_*``."""
    return OutboundSettings(
        ris=_ris(env),
        fhir=fhir_settings(env),
        fhir_events=events(env, "RADYAR_FHIR_EVENTS"),
        worklist=worklist_settings(env),
        give_up_hours=_int(env, "RADYAR_OUTBOUND_GIVE_UP_HOURS", 24, 1, 720),
        lease_seconds=_int(env, "RADYAR_OUTBOUND_LEASE_SECONDS", 120, 10, 3600),
    )


__all__ = ["ALL_EVENTS", "OutboundSettings", "RisSettings", "events", "outbound_settings"]
