"""``python -m radyar.healthcheck [--database]``: a container's health check (the Dockerfile's
HEALTHCHECK, compose.yaml). Asks ``radyar run``'s ``/healthz`` on this machine (it answers
loopback callers, and with ``RADYAR_METRICS_TOKEN`` set, callers bearing it, which this one
does); with ``--database``, for ``radyar worker``, which serves no HTTP, whether the database
answers. Exit status 0: healthy; 1: not."""

from __future__ import annotations

import asyncio
import os
import sys
import urllib.error
import urllib.request

from clinic import outbox_store
from radyar.app import build_app
from radyar.settings import Settings, SettingsError

TIMEOUT = 5.0
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "localhost"})


def healthz_url(env: dict[str, str]) -> str:
    """Where ``radyar run``'s /healthz is, seen from inside its own machine or container."""
    host = env.get("RADYAR_HTTP_HOST", "").strip()
    host = "127.0.0.1" if host in ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"
    port = env.get("RADYAR_HTTP_PORT", "").strip() or "8090"
    return f"http://{host}:{port}/healthz"


def ask_healthz(env: dict[str, str]) -> str | None:
    """None when /healthz says ok; else what went wrong (no secrets in it)."""
    request = urllib.request.Request(healthz_url(env))
    token = env.get("RADYAR_METRICS_TOKEN", "").strip()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return None if answer.status == 200 else f"/healthz answered {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"/healthz answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"/healthz did not answer ({type(exc).__name__})"


async def ask_database() -> str | None:
    """None when the configured database answers the smallest question."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return str(exc)
    try:
        async with build_app(settings) as app, app.uow().reading() as uow:
            await asyncio.wait_for(outbox_store.database_answers(uow), TIMEOUT)
    except Exception as exc:  # any failure means "not healthy"; its text may hold the URL
        return f"the database did not answer ({type(exc).__name__})"
    return None


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when healthy, 1 with one line on standard error when not."""
    args = sys.argv[1:] if argv is None else argv
    problem = (
        asyncio.run(ask_database()) if "--database" in args else ask_healthz(dict(os.environ))
    )
    if problem is None:
        return 0
    sys.stderr.write(f"unhealthy: {problem}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
