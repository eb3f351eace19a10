"""Running the outbound senders: one per adapter that is on (the RIS over MLLP, FHIR), each
keeping its own connection."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import TYPE_CHECKING

from notifier.outbound.fhir import FhirAdapter
from notifier.outbound.mllp_adapter import MllpAdapter
from notifier.outbound.orm import build_orm
from notifier.outbound.sender import OutboundSender
from notifier.outbound.siu import build_siu

if TYPE_CHECKING:
    from notifier.outbound.base import OutboundAdapter
    from radyar.app import App
    from radyar.settings import Settings

log = logging.getLogger(__name__)
BUILDERS = {"hl7_siu": build_siu, "hl7_orm": build_orm}


def adapters(settings: Settings) -> list[OutboundAdapter]:
    """The adapters the settings turn on (none by default)."""
    found: list[OutboundAdapter] = []
    ris = settings.outbound.ris
    if ris is not None:
        found.append(
            MllpAdapter(
                ris.adapter, BUILDERS[ris.adapter], ris.host, ris.port,
                sending_facility=ris.sending_facility,
                connect_seconds=float(ris.connect_seconds), ack_seconds=float(ris.ack_seconds),
            )
        )  # fmt: skip
    fhir = settings.outbound.fhir
    if fhir.base_url is not None:
        found.append(
            FhirAdapter(
                fhir.base_url, token=fhir.token.reveal(),
                timeout_seconds=float(fhir.timeout_seconds),
            )
        )  # fmt: skip
    return found


async def run_outbound(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """Tell the hospital's systems of booking changes until ``stop`` (no adapter: return)."""
    chosen = adapters(settings)
    if not chosen:
        return
    limits = settings.outbound
    async with AsyncExitStack() as stack, asyncio.TaskGroup() as group:
        for adapter in chosen:
            stack.push_async_callback(adapter.aclose)
            sender = OutboundSender(
                app.uow, adapter,
                lease=timedelta(seconds=limits.lease_seconds),
                give_up_after=timedelta(hours=limits.give_up_hours),
            )  # fmt: skip
            log.info("telling the hospital's systems of booking changes: %s", adapter.name)
            group.create_task(sender.run(stop))


__all__ = ["adapters", "run_outbound"]
