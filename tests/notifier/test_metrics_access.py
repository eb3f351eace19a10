"""/healthz and /metrics are not for anyone who reaches the port (issue 15, part 7): without
RADYAR_METRICS_TOKEN only callers on this machine are answered; with it, only callers bearing
it, wherever they are (behind a reverse proxy every caller is the proxy's loopback)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from notifier.web import create_app, healthz, metrics
from radyar.settings import Settings, SettingsError

if TYPE_CHECKING:
    from aiohttp import web

    from tests.conftest import ClinicEnv

TOKEN = "metrics-token-0123456789"


async def _status(app: web.Application, path: str, headers: dict[str, str] | None = None) -> int:
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}{path}", headers=headers or {}) as response,
        ):
            return response.status
    finally:
        await runner.cleanup()


def _from(app: web.Application, path: str, address: str) -> web.Request:
    # A caller on the hospital's network: no such address can be bound in a test (loopback
    # only), so the request is built with that peer, as aiohttp would build it.
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda key, default=None: (
        (address, 40000) if key == "peername" else default
    )
    return make_mocked_request("GET", path, app=app, transport=transport)


async def test_without_a_token_only_this_machine_is_answered(sqlite_env: ClinicEnv) -> None:
    app = create_app(sqlite_env.uow)
    assert await _status(app, "/healthz") == 200
    assert await _status(app, "/metrics") == 200
    for handler, path in ((healthz, "/healthz"), (metrics, "/metrics")):
        response = await handler(_from(app, path, "10.0.5.20"))
        assert response.status == 403


async def test_with_a_token_only_its_bearer_is_answered(sqlite_env: ClinicEnv) -> None:
    app = create_app(sqlite_env.uow, metrics_token=TOKEN.encode())
    assert await _status(app, "/metrics") == 401  # loopback too: it may be a proxy
    assert await _status(app, "/metrics", {"Authorization": "Bearer wrong-token"}) == 401
    assert await _status(app, "/metrics", {"Authorization": f"Bearer {TOKEN}"}) == 200
    assert await _status(app, "/healthz", {"Authorization": f"Bearer {TOKEN}"}) == 200
    remote = make_mocked_request(
        "GET", "/metrics", app=app, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert (await metrics(remote)).status == 200


def test_a_short_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="RADYAR_METRICS_TOKEN must be at least 16"):
        Settings.from_env({"RADYAR_METRICS_TOKEN": "short"})
    settings = Settings.from_env({"RADYAR_METRICS_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
