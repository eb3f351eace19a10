"""The DICOM Modality Worklist served by ``radyar run`` when RADYAR_MWL_PORT is set."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from notifier.outbound.worklist import WorklistScp

if TYPE_CHECKING:
    import asyncio

    from radyar.app import App
    from radyar.settings.worklist import WorklistSettings

log = logging.getLogger(__name__)


async def serve_worklist(worklist: WorklistSettings, app: App, stop: asyncio.Event) -> None:
    """The worklist's C-FIND SCP on RADYAR_MWL_HOST:RADYAR_MWL_PORT until ``stop`` (port 0:
    none, and it returns at once)."""
    if not worklist.enabled:
        return
    async with WorklistScp(
        app.uow, host=worklist.host, port=worklist.port, ae_title=worklist.ae_title,
        allowed_callers=worklist.allowed_callers, site=worklist.site,
    ) as scp:  # fmt: skip
        log.info(
            "DICOM Modality Worklist on %s:%s as %s (callers: %s; site: %s)",
            scp.host,
            scp.port,
            worklist.ae_title,
            ", ".join(worklist.allowed_callers) or "any",
            worklist.site or "all",
        )
        await stop.wait()
