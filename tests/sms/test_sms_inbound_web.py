"""The callback's refusals: an address off the allow-list, a database that does not answer,
a secret too short to guess-proof the URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from notifier.peers import AllowList
from notifier.sms_inbound_web import sms_inbound_routes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from clinic.uow import UnitOfWork

SECRET = "sms-callback-secret-for-refusals"
FIELDS = {"messageid": "9", "from": "09121234567", "to": "10004346", "message": "۱"}


def _no_database() -> UnitOfWork:
    raise OSError("the database does not answer")


async def _serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/sms/inbound/kavenegar/{SECRET}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(uow: Callable[[], UnitOfWork], allow: AllowList | None = None) -> str:
        runner, url = await _serve(sms_inbound_routes(uow, SECRET, allow))
        runners.append(runner)
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_an_address_off_the_allow_list_is_refused(
    serve: Callable[..., Awaitable[str]],
) -> None:
    url = await serve(_no_database, AllowList.parse("185.8.172.0/24"))
    async with aiohttp.ClientSession() as http, http.get(url, params=FIELDS) as response:
        assert response.status == 403


async def test_a_database_that_does_not_answer_gets_503_so_the_gateway_tries_again(
    serve: Callable[..., Awaitable[str]],
) -> None:
    url = await serve(_no_database)
    async with aiohttp.ClientSession() as http, http.post(url, data=FIELDS) as response:
        assert response.status == 503


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        sms_inbound_routes(_no_database, "short")
