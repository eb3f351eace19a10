"""The hospital's systems: the MLLP listener for HL7 v2 and the Orthanc change poller."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import TYPE_CHECKING

import aiohttp

from clinic import sites
from notifier.gate import BACKLOG
from notifier.hl7 import make_handler, make_too_large
from notifier.mllp import start_mllp_server
from notifier.pacs import OrthancPoller

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.uow import UnitOfWork
    from radyar.app import App
    from radyar.settings import Settings

log = logging.getLogger(__name__)
# Descriptors beyond the listeners': the database pool (SQLite opens three files a connection),
# the Bot API and SMS clients, the bot's webhook, uploads, the interpreter's own.
FD_RESERVE = 128


def open_files_needed(settings: Settings) -> int:
    """File descriptors ``radyar run`` may hold: both listeners full, their accept queues
    being looked at, and the reserve."""
    hospital = settings.hospital
    listeners = hospital.mllp_limits.connections.max_connections if hospital.mllp_port else 0
    listeners += hospital.http_limits.connections.max_connections
    return listeners + 2 * BACKLOG + FD_RESERVE


def fit_open_files(settings: Settings) -> None:
    """Raise the soft open-file limit to what ``radyar run`` may need (up to the hard limit);
    warn when even the hard limit is lower."""
    need = open_files_needed(settings)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("open-file limit raised from %s to %s", soft, target)
    if target < need:
        log.warning(
            "the open-file limit (%s) is below what the listeners may hold plus a reserve (%s):"
            " lower RADYAR_MLLP_MAX_CONNECTIONS and RADYAR_HTTP_MAX_CONNECTIONS, or raise the"
            " limit (LimitNOFILE=, ulimit -n)",
            target,
            need,
        )


async def serve_mllp(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """HL7 v2 over MLLP on RADYAR_MLLP_HOST:RADYAR_MLLP_PORT until ``stop`` (port 0: none)."""
    hospital = settings.hospital
    if hospital.mllp_port == 0:
        return
    limits = hospital.mllp_limits
    server = await start_mllp_server(
        make_handler(app.uow), hospital.mllp_host, hospital.mllp_port, limits, app.guards["mllp"],
        too_large=make_too_large(app.uow, limits.max_frame),
    )  # fmt: skip
    log.info(
        "HL7 MLLP listener on %s:%s (senders: %s; at most %s connections, %s per address)",
        hospital.mllp_host,
        hospital.mllp_port,
        limits.connections.allow,
        limits.connections.max_connections,
        limits.connections.max_per_peer,
    )
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


async def poll_orthanc(settings: Settings, app: App, stop: asyncio.Event) -> None:
    """Read each Orthanc's changes every RADYAR_ORTHANC_POLL_SECONDS: RADYAR_ORTHANC_URL's and
    each hospital's own (``orthanc_url`` in the department file); none: nothing to poll."""
    hospital = settings.hospital
    async with app.uow().reading() as uow:
        sources = await sites.pacs_sources(uow)
    async with aiohttp.ClientSession() as session:
        pollers = orthanc_pollers(settings, app.uow, session, sources)
        if not pollers:
            return
        log.info("polling %s Orthanc every %s s", len(pollers), hospital.orthanc_poll_seconds)
        async with asyncio.TaskGroup() as group:
            for poller in pollers:
                group.create_task(poller.run(stop, float(hospital.orthanc_poll_seconds)))


def orthanc_pollers(
    settings: Settings,
    uow_factory: Callable[[], UnitOfWork],
    session: aiohttp.ClientSession,
    sources: list[tuple[str, str, str]],
) -> list[OrthancPoller]:
    """A poller for RADYAR_ORTHANC_URL (its cursor as ever, its site RADYAR_ORTHANC_SITE's) and
    one for each hospital's own Orthanc (``sources``: URL, HIS name, hospital code), each with
    its own cursor and its hospital's site; one URL is polled once."""
    hospital = settings.hospital
    password = hospital.orthanc_password.reveal()
    found = []
    if hospital.orthanc_url is not None:
        found.append(
            OrthancPoller(
                uow_factory,
                session,
                hospital.orthanc_url,
                user=hospital.orthanc_user,
                password=password,
                site=hospital.orthanc_site,
            )
        )
    for url, his, code in sources:
        if url != hospital.orthanc_url:
            found.append(
                OrthancPoller(
                    uow_factory,
                    session,
                    url,
                    user=hospital.orthanc_user,
                    password=password,
                    cursor_name=f"orthanc:{code}"[:40],
                    site=his,
                )
            )
    return found
