"""The sandbox's control API over HTTP and in Python, and its lifecycle."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.sms import SmsSandbox
from tests.sandbox_sms.conftest import KEY, MOBILE

if TYPE_CHECKING:
    import aiohttp


async def control(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, path: str, body: Any = None
) -> tuple[int, Any]:
    url = f"{sandbox.url}/_sandbox/{path}"
    request = http.get(url) if body is None else http.post(url, json=body)
    async with request as response:
        return response.status, await response.json()


async def send(http: aiohttp.ClientSession, sandbox: SmsSandbox, text: str = "hi") -> int:
    url = f"{sandbox.url}/v1/{KEY}/sms/send.json"
    async with http.post(url, data={"receptor": MOBILE, "message": text}) as response:
        return response.status


async def test_inbox_messages_requests_and_counters_over_http(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    await send(http, sandbox, "سلام")

    _, inbox = await control(http, sandbox, "inbox/+989121234567")
    [entry] = inbox["result"]
    assert (entry["text"], entry["gateway"], entry["status"]) == ("سلام", "kavenegar", "queued")
    assert entry["sender"] == "10004346"
    assert (await control(http, sandbox, "messages?gateway=smsir"))[1]["result"] == []
    [request] = (await control(http, sandbox, "requests"))[1]["result"]
    assert (request["endpoint"], request["status"]) == ("sms/send", 200)
    assert KEY not in str(request)
    counters = (await control(http, sandbox, "counters"))[1]["result"]
    assert counters["kavenegar.accepted"] == 1


async def test_faults_credit_and_delivery_over_http(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    assert (await control(http, sandbox, "kavenegar/fail", {"status": 503}))[0] == 200
    assert await send(http, sandbox) == 503
    await control(http, sandbox, "kavenegar/invalid", {"number": "9121234567"})
    assert await send(http, sandbox) == 411
    await control(http, sandbox, "reset", {})
    await control(http, sandbox, "kavenegar/credit", {"amount": 0})
    assert await send(http, sandbox) == 418
    assert (await control(http, sandbox, "kavenegar/credit"))[1]["result"] == 0

    await control(http, sandbox, "reset", {})
    await send(http, sandbox)
    _, moved = await control(http, sandbox, "advance", {"steps": 2, "gateway": "kavenegar"})
    assert moved["result"] == 2
    assert sandbox.inbox(MOBILE)[0].status == "delivered"


async def test_accounts_over_http(http: aiohttp.ClientSession, sandbox: SmsSandbox) -> None:
    await control(http, sandbox, "smsir/keys", {"key": "second-key"})
    await control(http, sandbox, "smsir/lines", {"line": "3000505"})
    await control(http, sandbox, "smsir/templates", {"template": 7, "text": "#A#"})

    body = {"mobile": MOBILE, "templateId": 7, "parameters": [{"name": "a", "value": "ok"}]}
    url = f"{sandbox.url}/v1/send/verify"
    async with http.post(url, json=body, headers={"X-API-KEY": "second-key"}) as response:
        assert response.status == 200
    assert sandbox.inbox(MOBILE)[0].text == "ok"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("kavenegar/explode", {}, 404),
        ("ghasedak/credit", {"amount": 1}, 400),
        ("kavenegar/credit", {"amount": 1, "extra": 2}, 400),
        ("kavenegar/fail", {"status": 200}, 400),
        ("kavenegar/hang", {"seconds": 31}, 400),
        ("kavenegar/invalid", {"number": "12"}, 400),
    ],
)
async def test_bad_control_calls_are_refused(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, path: str, body: Any, status: int
) -> None:
    answer_status, answer = await control(http, sandbox, path, body)
    assert (answer_status, answer["ok"]) == (status, False)


async def test_reset_keeps_keys_templates_and_lines(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 5)
    assert await send(http, sandbox, "x") == 418
    sandbox.hang_next("kavenegar", count=3)
    sandbox.reset()

    assert sandbox.messages() == []
    assert sandbox.requests() == []
    assert not sandbox.counters
    assert sandbox.credit("kavenegar") == 1_000_000
    assert sandbox.faults("kavenegar").hang_count == 0
    assert await send(http, sandbox) == 200


async def test_a_hang_ends_when_the_sandbox_stops(http: aiohttp.ClientSession) -> None:
    sandbox = SmsSandbox(kavenegar_keys=[KEY])
    await sandbox.start()
    sandbox.hang_next("kavenegar", seconds=30)
    pending = asyncio.ensure_future(send(http, sandbox))
    await asyncio.sleep(0.1)

    started = time.monotonic()
    await sandbox.stop()
    status = await pending

    assert time.monotonic() - started < 2
    assert status == 200  # released early, then handled


def test_only_loopback_addresses() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SmsSandbox(host="0.0.0.0")


async def test_auto_advance_delivers_on_its_own(http: aiohttp.ClientSession) -> None:
    async with SmsSandbox(kavenegar_keys=[KEY], auto_advance=0.02) as sandbox:
        await send(http, sandbox)
        async with asyncio.timeout(2):
            while sandbox.inbox(MOBILE)[0].status != "delivered":  # noqa: ASYNC110
                await asyncio.sleep(0.02)


async def test_wait_idle_times_out_while_a_request_hangs(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.hang_next("kavenegar", seconds=5)
    pending = asyncio.ensure_future(send(http, sandbox))
    await asyncio.sleep(0.05)
    with pytest.raises(TimeoutError):
        await sandbox.wait_idle(0.1)
    sandbox.release_hangs()
    await sandbox.wait_idle()
    assert await pending == 200
