"""Kavenegar's wire format as the sandbox speaks it, driven with raw HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.sandbox_sms.conftest import KEY, MOBILE

if TYPE_CHECKING:
    import aiohttp

    from sandbox.sms import SmsSandbox

Answer = tuple[int, Any]


async def call(
    http: aiohttp.ClientSession,
    sandbox: SmsSandbox,
    endpoint: str,
    *,
    key: str = KEY,
    get: bool = False,
    form: dict[str, str] | None = None,
    **params: str,
) -> Answer:
    url = f"{sandbox.url}/v1/{key}/{endpoint}.json"
    params.update(form or {})
    request = http.get(url, params=params) if get else http.post(url, data=params)
    async with request as response:
        return response.status, await response.json()


async def test_send_answers_the_envelope_with_one_entry_per_receptor(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    status, body = await call(
        http, sandbox, "sms/send", receptor=f"{MOBILE},+989351234567", message="سلام"
    )

    assert status == 200
    assert body["return"] == {"status": 200, "message": "تایید شد"}
    first, second = body["entries"]
    assert first["receptor"] == MOBILE
    assert second["receptor"] == "09351234567"
    assert first["status"] == 1
    assert first["statustext"]
    assert first["sender"] == "10004346"
    assert set(first) == {
        "messageid", "message", "status", "statustext", "sender", "receptor", "date", "cost"
    }  # fmt: skip
    assert [m.text for m in sandbox.inbox("9351234567")] == ["سلام"]


async def test_get_works_like_post(http: aiohttp.ClientSession, sandbox: SmsSandbox) -> None:
    status, _ = await call(http, sandbox, "sms/send", get=True, receptor=MOBILE, message="hi")
    assert status == 200
    assert sandbox.requests()[0].http_method == "GET"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"message": "hi"}, 400),
        ({"receptor": MOBILE}, 400),
        ({"receptor": "0912", "message": "hi"}, 411),
        ({"receptor": MOBILE, "message": "hi", "sender": "3000999"}, 412),
        ({"receptor": MOBILE, "message": "  "}, 413),
        ({"receptor": MOBILE, "message": "x" * 901}, 413),
        ({"receptor": f"{MOBILE},09351234567", "message": "hi", "localid": "1"}, 400),
    ],
    ids=["no-receptor", "no-message", "bad-receptor", "bad-sender", "empty", "too-long", "ids"],
)
async def test_send_errors_carry_the_code_as_http_status(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, params: dict[str, str], code: int
) -> None:
    status, body = await call(http, sandbox, "sms/send", form=params)

    assert status == body["return"]["status"] == code
    assert body["entries"] is None
    assert sandbox.messages() == []


async def test_unknown_key_and_method(http: aiohttp.ClientSession, sandbox: SmsSandbox) -> None:
    assert (await call(http, sandbox, "sms/send", key="nope"))[0] == 401
    assert (await call(http, sandbox, "sms/sendfax"))[0] == 404


async def test_a_repeated_localid_returns_the_first_message(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    _, first = await call(http, sandbox, "sms/send", receptor=MOBILE, message="a", localid="77")
    _, again = await call(http, sandbox, "sms/send", receptor=MOBILE, message="b", localid="77")

    assert again["entries"] == first["entries"]
    assert [m.text for m in sandbox.inbox(MOBILE)] == ["a"]
    _, local = await call(http, sandbox, "sms/statuslocalmessageid", localid="77,78")
    assert [(e["localid"], e["status"]) for e in local["entries"]] == [("77", 1), ("78", 100)]


async def test_status_follows_the_delivery_steps(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.mark_undeliverable("09351234567")
    _, sent = await call(http, sandbox, "sms/send", receptor=f"{MOBILE},09351234567", message="hi")
    ids = ",".join(str(e["messageid"]) for e in sent["entries"]) + ",1"

    seen = []
    for _ in range(3):
        _, body = await call(http, sandbox, "sms/status", messageid=ids)
        seen.append([e["status"] for e in body["entries"]])
        sandbox.advance()

    assert seen == [[1, 1, 100], [4, 4, 100], [10, 11, 100]]


async def test_lookup_renders_the_template(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    status, body = await call(
        http,
        sandbox,
        "verify/lookup",
        receptor=MOBILE,
        template="visit",
        token="سارا",
        token2="۸:۳۰",
        token10="بخش تصویربرداری",
    )

    assert status == 200
    [message] = sandbox.inbox(MOBILE)
    assert message.text == "سارا عزیز، نوبت ۸:۳۰ در بخش تصویربرداری"
    assert (message.template, message.kind) == ("visit", "sms")
    assert body["entries"][0]["message"] == message.text


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"template": "otp"}, 400),
        ({"template": "nope", "token": "1"}, 424),
        ({"template": "otp", "token": "1 2"}, 431),
        ({"template": "otp", "token": "x" * 101}, 431),
        ({"template": "visit", "token": "a"}, 400),
        ({"template": "otp", "token": "1", "type": "fax"}, 400),
    ],
    ids=["no-token", "no-template", "space", "long", "token2-missing", "bad-type"],
)
async def test_lookup_errors(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, params: dict[str, str], code: int
) -> None:
    status, _ = await call(http, sandbox, "verify/lookup", receptor=MOBILE, form=params)
    assert status == code


async def test_credit_is_charged_per_part_and_checked(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 250)
    _, info = await call(http, sandbox, "account/info")
    assert info["entries"]["remaincredit"] == 250

    await call(http, sandbox, "sms/send", receptor=MOBILE, message="س" * 71)  # two parts
    status, _ = await call(http, sandbox, "sms/send", receptor=MOBILE, message="س")

    assert status == 418
    assert sandbox.credit("kavenegar") == 50
    assert [m.parts for m in sandbox.inbox(MOBILE)] == [2]


async def test_faults_answer_with_their_status_and_retry_after(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.fail_next("kavenegar", status=429, retry_after=3)
    async with http.post(f"{sandbox.url}/v1/{KEY}/account/info.json") as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
    sandbox.fail_next("kavenegar", status=502)
    async with http.post(f"{sandbox.url}/v1/{KEY}/account/info.json") as response:
        assert response.status == 502
        assert response.content_type == "text/html"
    assert (await call(http, sandbox, "account/info"))[0] == 200
    assert sandbox.count("kavenegar", "failures") == 2
