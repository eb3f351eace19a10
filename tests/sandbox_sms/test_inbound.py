"""Phones answering: the sandbox keeps their SMS for Kavenegar's sms/receive and SMS.ir's
receive/latest, and Kavenegar forwards each to a URL, over raw HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from tests.sandbox_sms.conftest import KEY, MOBILE
from tests.sandbox_sms.test_control import control

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import aiohttp

    from sandbox.sms import SmsSandbox
    from tests.sandbox_sms.conftest import Clock

LINE = "10004346"


async def receive(http: aiohttp.ClientSession, sandbox: SmsSandbox, **form: str) -> Any:
    url = f"{sandbox.url}/v1/{KEY}/sms/receive.json"
    async with http.post(url, data=form) as response:
        return response.status, await response.json()


async def latest(http: aiohttp.ClientSession, sandbox: SmsSandbox, query: str = "") -> Any:
    url = f"{sandbox.url}/v1/receive/latest{query}"
    async with http.get(url, headers={"X-API-KEY": KEY}) as response:
        return response.status, await response.json()


async def test_kavenegar_receive_answers_unread_replies_once(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, clock: Clock
) -> None:
    status, sent = await control(
        http, sandbox, "kavenegar/phone", {"number": "+989121234567", "text": "۱"}
    )
    assert status == 200 and sent["result"]["line"] == LINE

    status, body = await receive(http, sandbox, linenumber=LINE, isread="0")

    assert status == 200
    assert body["entries"] == [
        {
            "messageid": sent["result"]["id"],
            "message": "۱",
            "sender": "+989121234567",
            "receptor": LINE,
            "date": int(clock.now),
        }
    ]
    assert (await receive(http, sandbox, linenumber=LINE, isread="0"))[1]["entries"] == []
    assert len((await receive(http, sandbox, linenumber=LINE, isread="1"))[1]["entries"]) == 1
    assert (await receive(http, sandbox, linenumber="10009999", isread="0"))[0] == 412
    assert (await receive(http, sandbox, linenumber=LINE, isread="2"))[0] == 400
    assert (await receive(http, sandbox, isread="0"))[0] == 400


async def test_smsir_latest_answers_newest_first_every_time(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.phone_sends(MOBILE, "اول", gateway="smsir")
    sandbox.phone_sends("989351234567", "دوم", gateway="smsir")

    status, body = await latest(http, sandbox, "?count=100")

    assert status == 200
    assert [(m["messageText"], m["mobile"]) for m in body["data"]] == [
        ("دوم", 989351234567),
        ("اول", 9121234567),
    ]
    assert body["data"][0]["number"] == 30007732000000
    assert (await latest(http, sandbox))[1]["data"] == body["data"]  # again, unchanged
    assert len((await latest(http, sandbox, "?count=1"))[1]["data"]) == 1
    status, refused = await latest(http, sandbox, "?count=101")
    assert (status, refused["status"]) == (400, 16)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A loopback URL that records what is forwarded to it."""
    calls: list[dict[str, str]] = []

    async def take(request: web.Request) -> web.Response:
        fields = dict(request.query)
        if request.method == "POST":
            fields.update({k: str(v) for k, v in (await request.post()).items()})
        calls.append({"method": request.method, **fields})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/in", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/in", calls
    await runner.cleanup()


async def test_kavenegar_forwards_each_reply_and_can_repeat_it(
    http: aiohttp.ClientSession,
    sandbox: SmsSandbox,
    receiver: tuple[str, list[dict[str, str]]],
) -> None:
    url, calls = receiver
    assert (await control(http, sandbox, "kavenegar/forward-url", {"url": url}))[0] == 200

    _, sent = await control(http, sandbox, "kavenegar/phone", {"number": MOBILE, "text": "لغو"})
    _, again = await control(http, sandbox, "kavenegar/forward", {"id": sent["result"]["id"]})

    fields = {"messageid": str(sent["result"]["id"]), "from": MOBILE, "to": LINE}
    assert calls == [{"method": "GET", **fields, "message": "لغو"}] * 2
    assert sent["result"]["forwards"] == [200] and again["result"] == 200
    sandbox.set_forward_url(url, method="POST")
    posted = await sandbox.text_us(MOBILE, "بله")
    assert (calls[-1]["method"], calls[-1]["message"], posted.forwards) == ("POST", "بله", [200])
    _, listed = await control(http, sandbox, "inbound?gateway=kavenegar")
    assert [m["text"] for m in listed["result"]] == ["لغو", "بله"]


async def test_forwarding_is_to_loopback_only_and_survives_a_reset(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    status, _ = await control(
        http, sandbox, "kavenegar/forward-url", {"url": "http://203.0.113.5/in"}
    )
    assert status == 400
    assert (await control(http, sandbox, "smsir/forward-url", {"url": "http://127.0.0.1/"}))[
        0
    ] == 400
    sandbox.set_forward_url("http://127.0.0.1:9/in")
    sandbox.phone_sends(MOBILE, "1")
    await control(http, sandbox, "reset", {})
    assert sandbox.inbound() == []
    assert sandbox.world.gateway("kavenegar").forward_url == "http://127.0.0.1:9/in"
    nobody = await sandbox.text_us(MOBILE, "2")  # nothing listens there
    assert nobody.forwards == [0]
