"""SMS.ir's v1 wire format as the sandbox speaks it, driven with raw HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.sandbox_sms.conftest import KEY, MOBILE, Clock

if TYPE_CHECKING:
    import aiohttp

    from sandbox.sms import SmsSandbox

LINE = 30007732000000


async def call(
    http: aiohttp.ClientSession,
    sandbox: SmsSandbox,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = KEY,
) -> tuple[int, Any]:
    headers = {"X-API-KEY": key} if key else {}
    async with http.request(
        method, f"{sandbox.url}/v1/{path}", json=body, headers=headers
    ) as response:
        return response.status, await response.json(content_type=None)


@pytest.mark.parametrize(
    "body",
    [
        {"lineNumber": LINE, "messageText": "سلام", "mobiles": [MOBILE], "sendDateTime": None},
        {"lineNumber": str(LINE), "MessageText": "سلام", "Mobiles": ["9121234567"]},
    ],
    ids=["camelCase", "PascalCase-sdk"],
)
@pytest.mark.parametrize("path", ["send/bulk", "send/bulk/"])
async def test_bulk_accepts_either_casing_and_slash(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, body: dict[str, Any], path: str
) -> None:
    status, answer = await call(http, sandbox, "POST", path, body)

    assert status == 200
    assert (answer["status"], answer["message"]) == (1, "موفق")
    [message_id] = answer["data"]["messageIds"]
    assert answer["data"]["cost"] == 100
    assert len(answer["data"]["packId"]) == 36
    [message] = sandbox.inbox(MOBILE)
    assert (message.id, message.text, message.sender) == (message_id, "سلام", str(LINE))


async def test_verify_renders_the_template_and_reports_delivery(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, clock: Clock
) -> None:
    body = {
        "Mobile": MOBILE,
        "TemplateId": 1001,
        "Parameters": [{"Name": "code", "Value": "4821"}],
    }
    _, answer = await call(http, sandbox, "POST", "send/verify/", body)
    message_id = answer["data"]["messageId"]
    assert [m.text for m in sandbox.inbox(MOBILE)] == ["کد شما 4821 است"]

    states = []
    for _ in range(3):
        _, report = await call(http, sandbox, "GET", f"send/{message_id}")
        states.append(report["data"]["deliveryState"])
        clock.now += 5
        sandbox.advance()

    assert states == [None, 5, 1]
    assert report["data"]["mobile"] == 9121234567
    assert report["data"]["deliveryDateTime"] == int(clock.now - 5)


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("send/bulk", {"lineNumber": 1, "messageText": "x", "mobiles": [MOBILE]}, 101),
        ("send/bulk", {"lineNumber": LINE, "messageText": " ", "mobiles": [MOBILE]}, 103),
        ("send/bulk", {"lineNumber": LINE, "messageText": "x", "mobiles": ["0912"]}, 104),
        ("send/bulk", {"lineNumber": LINE, "messageText": "x", "mobiles": [MOBILE] * 101}, 105),
        ("send/bulk", {"lineNumber": LINE, "messageText": "x", "mobiles": []}, 107),
        ("send/bulk", {"lineNumber": LINE, "messageText": "x", "mobiles": [MOBILE],
                       "sendDateTime": 1}, 109),
        ("send/bulk", [1, 2], 16),
        ("send/verify", {"mobile": MOBILE, "templateId": 9, "parameters": []}, 113),
        ("send/verify", {"mobile": MOBILE, "templateId": 1001, "parameters": []}, 116),
        ("send/verify", {"mobile": MOBILE, "templateId": 1001,
                         "parameters": [{"name": "CODE", "value": "x" * 26}]}, 114),
        ("send/verify", {"templateId": 1001}, 16),
    ],
    ids=["line", "text", "mobile", "too-many", "no-mobiles", "past", "not-object", "template",
         "param-missing", "param-long", "no-mobile"],
)  # fmt: skip
async def test_logical_errors_are_http_400_with_a_status_code(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, path: str, body: Any, code: int
) -> None:
    status, answer = await call(http, sandbox, "POST", path, body)

    assert (status, answer["status"], answer["data"]) == (400, code, None)
    assert answer["message"]
    assert sandbox.messages() == []


async def test_a_missing_or_wrong_key_is_401(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    for key in (None, "wrong"):
        status, answer = await call(http, sandbox, "GET", "credit", key=key)
        assert (status, answer["status"]) == (401, 10)


async def test_credit_lines_and_unknown_reports(
    http: aiohttp.ClientSession, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("smsir", 150)
    assert (await call(http, sandbox, "GET", "credit"))[1]["data"] == 150
    assert (await call(http, sandbox, "GET", "line/"))[1]["data"] == [LINE]
    status, answer = await call(http, sandbox, "GET", "send/12345")
    assert (status, answer["status"]) == (400, 111)

    body = {"lineNumber": LINE, "messageText": "س" * 71, "mobiles": [MOBILE]}
    status, answer = await call(http, sandbox, "POST", "send/bulk", body)
    assert (status, answer["status"]) == (400, 102)


@pytest.mark.parametrize(
    ("fault", "http_status", "code"), [(429, 429, 20), (500, 500, 0), (401, 401, 10)]
)
async def test_faults_use_the_envelope(
    http: aiohttp.ClientSession, sandbox: SmsSandbox, fault: int, http_status: int, code: int
) -> None:
    sandbox.fail_next("smsir", status=fault, retry_after=1.5)
    async with http.get(f"{sandbox.url}/v1/credit", headers={"X-API-KEY": KEY}) as response:
        body = await response.json()
        assert response.status == http_status
        assert response.headers["Retry-After"] == "1.5"
    assert body["status"] == code
