"""SMS.ir's v1 REST wire format: X-API-KEY header, JSON in either key casing, envelope out."""

from __future__ import annotations

import json
import logging
import re
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .text import canonical_mobile
from .world import Gateway, Message, World, apply_faults

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("sandbox.sms")
_dumps = partial(json.dumps, ensure_ascii=False)

# Body "status" codes as several public clients list them (apidocs.sms.ir has the table).
ERRORS = {
    0: "درخواست شما با خطا مواجه شده است",
    10: "کلید وب سرویس نامعتبر است",
    16: "مقدار ارسالی پارامتر نادرست میباشد",
    20: "تعداد درخواست بیشتر از حد مجاز است",
    101: "شماره خط نامعتبر میباشد",
    102: "اعتبار کافی نمیباشد",
    103: "درخواست شما دارای متن (های) خالی است",
    104: "درخواست شما دارای موبایل (های) نادرست است",
    105: "تعداد موبایل ها بیشتر از حد مجاز (100 عدد) میباشد",
    107: "لیست موبایل ها خالی میباشد",
    109: "زمان ارسال نامعتبر میباشد",
    111: "با این شناسه ارسالی ثبت نشده است",
    113: "قالب یافت نشد",
    114: "طول رشته مقدار پارامتر، بیش از حد مجاز (25 کاراکتر) میباشد",
    116: "نام یک یا چند پارامتر مقداردهی نشده است",
}
_HTTP = {0: 500, 10: 401, 20: 429}  # every other code is a "logical error", HTTP 400
_FAULT_CODES = {401: 10, 429: 20}
# deliveryState as public clients describe it: 1 delivered, 2 not delivered, 5 at the operator.
DELIVERY_STATE: dict[str, int | None] = {
    "queued": None,
    "sent": 5,
    "delivered": 1,
    "undelivered": 2,
}
_PLACEHOLDER = re.compile(r"#([^#\s]+)#")
LATEST_MAX = 100  # receive/latest's count at most (the SDKs' examples stay within it)
Body = dict[str, Any]


class SmsIrError(Exception):
    """A body status other than 1."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _reply(data: Any) -> web.Response:
    return web.json_response({"status": 1, "message": "موفق", "data": data}, dumps=_dumps)


def error_response(
    code: int, http: int | None = None, retry_after: float | None = None
) -> web.Response:
    """The error envelope; a bare HTML page for 502–504 (what a proxy in front would send)."""
    status = http or _HTTP.get(code, 400)
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    if status in (502, 503, 504):
        html = f"<html><body><h1>{status}</h1></body></html>"
        return web.Response(status=status, text=html, content_type="text/html", headers=headers)
    body = {"status": code, "message": ERRORS.get(code, "خطا"), "data": None}
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _lower(body: Any) -> Body:
    """Keys case-folded: the SDKs send PascalCase, the docs camelCase; both are accepted."""
    if not isinstance(body, dict):
        raise SmsIrError(16)
    return {str(k).lower(): v for k, v in body.items()}


def _report(message: Message) -> dict[str, Any]:
    final = message.status in ("delivered", "undelivered")
    return {
        "messageId": message.id,
        "mobile": int(message.mobile),
        "messageText": message.text,
        "sendDateTime": int(message.time),
        "lineNumber": int(message.sender) if message.sender.isdigit() else message.sender,
        "cost": message.cost,
        "deliveryState": DELIVERY_STATE[message.status],
        "deliveryDateTime": int(message.status_time) if final and message.status_time else None,
    }


class SmsIrApi:
    """The SMS.ir endpoints the product uses, over one shared World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gateway: Gateway = world.gateway("smsir")

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes, each with and without the trailing slash the SDKs add."""
        table: list[tuple[str, str, Callable[[Body, str], Any]]] = [
            ("POST", "/v1/send/bulk", self._bulk),
            ("POST", "/v1/send/verify", self._verify),
            ("GET", "/v1/send/{message_id:[0-9]+}", self._report),
            ("GET", "/v1/credit", self._credit),
            ("GET", "/v1/line", self._lines),
            ("GET", "/v1/receive/latest", self._latest),
        ]
        routes = []
        for method, path, handler in table:
            endpoint = partial(self.handle, handler=handler)
            routes += [web.route(method, path, endpoint), web.route(method, f"{path}/", endpoint)]
        return routes

    async def handle(
        self, request: web.Request, handler: Callable[[Body, str], Any]
    ) -> web.StreamResponse:
        """One API call: log it, apply faults, check the key, dispatch."""
        endpoint = request.path.strip("/").removeprefix("v1/")
        endpoint = "send/report" if request.match_info.get("message_id") else endpoint
        raw = await request.text() if request.can_read_body else ""
        params: Any = _parse(raw)
        if request.method == "GET" and request.query:  # receive/latest?count=
            params = {**dict(request.query), **(params if isinstance(params, dict) else {})}
        record = self.world.log_request("smsir", request.method, endpoint, _loggable(params))
        with self.world.busy():
            response, code = await self._respond(request, handler, params)
        record.status, record.code = response.status, code
        log.info("smsir %s -> %s (%s)", endpoint, response.status, code)
        return response

    async def _respond(
        self, request: web.Request, handler: Callable[[Body, str], Any], params: Any
    ) -> tuple[web.StreamResponse, int]:
        failure = await apply_faults(self.world, self.gateway)
        if failure is not None:
            code = _FAULT_CODES.get(failure.status, 0)
            return error_response(code, failure.status, failure.retry_after), code
        if request.headers.get("X-API-KEY") not in self.gateway.keys:
            return error_response(10), 10
        try:
            body = _lower(params if params is not None else {})
            return _reply(handler(body, request.match_info.get("message_id", ""))), 1
        except SmsIrError as exc:
            self.world.counters["smsir.rejected"] += 1
            return error_response(exc.code), exc.code

    # --- endpoints (synchronous: nothing interleaves between a check and its effect) -------

    def _mobile(self, raw: object) -> str:
        mobile = canonical_mobile(raw)
        if mobile is None or mobile in self.gateway.faults.invalid_numbers:
            raise SmsIrError(104)
        return mobile

    def _charge(self, text: str, count: int) -> None:
        if self.world.cost(self.gateway, text, count) > self.gateway.credit:
            raise SmsIrError(102)

    def _bulk(self, body: Body, _: str) -> dict[str, Any]:
        line = str(body.get("linenumber") or "")
        if line not in self.gateway.lines:
            raise SmsIrError(101)
        text = body.get("messagetext")
        if not isinstance(text, str) or not text.strip():
            raise SmsIrError(103)
        mobiles = body.get("mobiles")
        if not isinstance(mobiles, list) or not mobiles:
            raise SmsIrError(107)
        if len(mobiles) > 100:
            raise SmsIrError(105)
        numbers = [self._mobile(m) for m in mobiles]
        when = body.get("senddatetime")
        if when is not None and (not isinstance(when, int) or when < self.world.wallclock()):
            raise SmsIrError(109)
        self._charge(text, len(numbers))
        sent = [self.world.accept(self.gateway, n, text, sender=line) for n in numbers]
        ids = [m.id for m in sent]
        return {"packId": str(uuid.uuid4()), "messageIds": ids, "cost": sum(m.cost for m in sent)}

    def _verify(self, body: Body, _: str) -> dict[str, Any]:
        if "mobile" not in body:
            raise SmsIrError(16)
        mobile = self._mobile(body["mobile"])
        template_id = str(body.get("templateid") or "")
        template = self.gateway.templates.get(template_id)
        if template is None:
            raise SmsIrError(113)
        text = _render(template, body.get("parameters") or [])
        self._charge(text, 1)
        message = self.world.accept(
            self.gateway, mobile, text, sender=self.gateway.lines[0], template=template_id
        )
        return {"messageId": message.id, "cost": message.cost}

    def _report(self, _body: Body, message_id: str) -> dict[str, Any]:
        message = self.world.find("smsir", int(message_id))
        if message is None:
            raise SmsIrError(111)
        return _report(message)

    def _credit(self, _body: Body, _: str) -> int:
        return self.gateway.credit

    def _latest(self, body: Body, _: str) -> list[dict[str, Any]]:
        """The latest ``count`` (1-100, default 100) SMS phones sent the account's lines,
        newest first, read or not: every call answers them again."""
        try:
            count = int(body.get("count", LATEST_MAX))
        except (TypeError, ValueError):
            raise SmsIrError(16) from None
        if not 1 <= count <= LATEST_MAX:
            raise SmsIrError(16)
        found = [m for m in self.world.inbound if m.gateway == "smsir"][::-1][:count]
        return [
            {
                "messageText": m.text,
                "mobile": int(_digits(m.sender)) if _digits(m.sender) else m.sender,
                "number": int(m.line) if m.line.isdigit() else m.line,
                "receivedDateTime": int(m.time),
            }
            for m in found
        ]

    def _lines(self, _body: Body, _: str) -> list[Any]:
        return [int(line) if line.isdigit() else line for line in self.gateway.lines]


def _render(template: str, parameters: Any) -> str:
    """Fill #NAME# placeholders from [{name, value}] (either casing); 114 for a long value."""
    if not isinstance(parameters, list):
        raise SmsIrError(16)
    values: dict[str, str] = {}
    for item in parameters:
        entry = _lower(item)
        name, value = str(entry.get("name") or ""), entry.get("value")
        if not name or value is None:
            raise SmsIrError(116)
        if len(str(value)) > 25:
            raise SmsIrError(114)
        values[name.upper()] = str(value)

    def fill(match: re.Match[str]) -> str:
        if match.group(1).upper() not in values:
            raise SmsIrError(116)
        return values[match.group(1).upper()]

    return _PLACEHOLDER.sub(fill, template)


def _digits(number: str) -> str:
    """The number's digits: the mobile as SMS.ir's JSON gives it, a number (989…)."""
    return "".join(ch for ch in number if ch.isascii() and ch.isdigit())


def _parse(raw: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # not JSON: the endpoint answers 16


def _loggable(params: Any) -> dict[str, Any]:
    return params if isinstance(params, dict) else {"body": params} if params else {}
