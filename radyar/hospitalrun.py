"""The hospital's systems: the MLLP listener for HL7 v2 and the Orthanc change poller."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from notifier.hl7 import make_handler
from notifier.mllp import start_mllp_server
from notifier.pacs import OrthancPoller
from radyar.app import App
from radyar.settings import Settings

log = logging.getLogger(__name__)


async def serve_mllp(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """HL7 v2 over MLLP on RADYAR_MLLP_HOST:RADYAR_MLLP_PORT until ``stop`` (port 0: none)."""
    hospital = settings.hospital
    if hospital.mllp_port == 0:
        return
    server = await start_mllp_server(make_handler(app.uow), hospital.mllp_host, hospital.mllp_port)
    log.info("HL7 MLLP listener on %s:%s", hospital.mllp_host, hospital.mllp_port)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


async def poll_orthanc(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """Read Orthanc's changes every RADYAR_ORTHANC_POLL_SECONDS (no RADYAR_ORTHANC_URL: none)."""
    hospital = settings.hospital
    if hospital.orthanc_url is None:
        return
    async with aiohttp.ClientSession() as session:
        poller = OrthancPoller(
            app.uow,
            session,
            hospital.orthanc_url,
            user=hospital.orthanc_user,
            password=hospital.orthanc_password.reveal(),
        )
        log.info("polling Orthanc every %s s", hospital.orthanc_poll_seconds)
        await poller.run(stop, float(hospital.orthanc_poll_seconds))
