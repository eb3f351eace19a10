"""Kavenegar's REST wire format: /v1/{API-KEY}/{scope}/{method}.json, form in, envelope out."""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .text import canonical_mobile
from .world import Failure, Gateway, Message, World, apply_faults

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("sandbox.sms")
_dumps = partial(json.dumps, ensure_ascii=False)

OK_MESSAGE = "تایید شد"
# return.status → message, from kavenegar.com/rest.html as transcribed by third parties.
ERRORS = {
    400: "پارامترها ناقص هستند",
    401: "کلید API نامعتبر است",
    404: "متدی با این نام پیدا نشده است",
    409: "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید",
    411: "دریافت کننده نامعتبر است",
    412: "ارسال کننده نامعتبر است",
    413: "پیام خالی است و یا طول پیام بیش از حد مجاز میباشد",
    414: "حجم درخواست بیشتر از حد مجاز است",
    418: "اعتبار حساب شما کافی نیست",
    424: "الگوی مورد نظر پیدا نشد",
    429: "IP محدود شده است",
    431: "ساختار کد صحیح نمیباشد",
}
STATUS = {"queued": 1, "sent": 4, "delivered": 10, "undelivered": 11}
STATUS_TEXT = {
    1: "در صف ارسال قرار دارد",
    4: "ارسال شده به مخابرات",
    10: "رسیده به گیرنده",
    11: "نرسیده به گیرنده",
    100: "شناسه پیامک نامعتبر است",
}
TOKENS = ("token20", "token10", "token3", "token2", "token")  # longest first when rendering
_TOKEN_SPACES = {"token": 0, "token2": 0, "token3": 0, "token10": 5, "token20": 8}
MAX_TEXT = 900
RECEIVE_BATCH = 100  # messages per sms/receive answer (a guess: the docs we read say none)
Params = dict[str, str]


class KavenegarError(Exception):
    """A return.status other than 200."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _reply(entries: Any) -> web.Response:
    body = {"return": {"status": 200, "message": OK_MESSAGE}, "entries": entries}
    return web.json_response(body, dumps=_dumps)


def error_response(code: int, retry_after: float | None = None) -> web.Response:
    """The error envelope with HTTP status = return.status; a bare HTML page for 502–504."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    if code in (502, 503, 504):
        html = f"<html><body><h1>{code}</h1></body></html>"
        return web.Response(status=code, text=html, content_type="text/html", headers=headers)
    body = {"return": {"status": code, "message": ERRORS.get(code, "خطا")}, "entries": None}
    return web.json_response(body, status=code, headers=headers, dumps=_dumps)


def _entry(message: Message) -> dict[str, Any]:
    status = STATUS[message.status]
    return {
        "messageid": message.id,
        "message": message.text,
        "status": status,
        "statustext": STATUS_TEXT[status],
        "sender": message.sender,
        "receptor": message.mobile,
        "date": int(message.time),
        "cost": message.cost,
    }


def _status_entry(message: Message | None, message_id: object) -> dict[str, Any]:
    status = STATUS[message.status] if message else 100
    return {"messageid": message_id, "status": status, "statustext": STATUS_TEXT[status]}


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _required(params: Params, name: str) -> str:
    if name not in params:
        raise KavenegarError(400)
    return params[name]


class KavenegarApi:
    """The Kavenegar endpoints the product uses, over one shared World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gateway: Gateway = world.gateway("kavenegar")
        self._endpoints: dict[str, Callable[[Params], Any]] = {
            "sms/send": self._send,
            "verify/lookup": self._lookup,
            "sms/status": self._status,
            "sms/statuslocalmessageid": self._status_local,
            "sms/receive": self._receive,
            "account/info": self._info,
        }

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes (GET or POST, like the real service)."""
        return [web.route("*", "/v1/{key}/{scope}/{method}.json", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """One API call: log it, apply faults, check the key, dispatch."""
        endpoint = f"{request.match_info['scope']}/{request.match_info['method']}".lower()
        params: Params = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        record = self.world.log_request("kavenegar", request.method, endpoint, params)
        with self.world.busy():
            response = await self._respond(request.match_info["key"], endpoint, params)
        record.status = response.status
        record.code = response.status
        log.info("kavenegar %s -> %s", endpoint, response.status)
        return response

    async def _respond(self, key: str, endpoint: str, params: Params) -> web.Response:
        failure: Failure | None = await apply_faults(self.world, self.gateway)
        if failure is not None:
            return error_response(failure.status, failure.retry_after)
        if key not in self.gateway.keys:
            return error_response(401)
        handler = self._endpoints.get(endpoint)
        if handler is None:
            return error_response(404)
        try:
            return _reply(handler(params))
        except KavenegarError as exc:
            self.world.counters["kavenegar.rejected"] += 1
            return error_response(exc.code)

    # --- endpoints (synchronous: nothing interleaves between a check and its effect) -------

    def _mobile(self, raw: str) -> str:
        mobile = canonical_mobile(raw)
        if mobile is None or mobile in self.gateway.faults.invalid_numbers:
            raise KavenegarError(411)
        return mobile

    def _charge(self, text: str, count: int) -> None:
        if count and self.world.cost(self.gateway, text, count) > self.gateway.credit:
            raise KavenegarError(418)

    def _send(self, params: Params) -> list[dict[str, Any]]:
        receptors = _split(_required(params, "receptor"))
        text = _required(params, "message")
        if not receptors:
            raise KavenegarError(400)
        if not text.strip() or len(text) > MAX_TEXT:
            raise KavenegarError(413)
        if len(receptors) > 200:
            raise KavenegarError(414)
        sender = params.get("sender") or self.gateway.lines[0]
        if sender not in self.gateway.lines:
            raise KavenegarError(412)
        mobiles = [self._mobile(r) for r in receptors]
        given = _split(params.get("localid"))
        if given and len(given) != len(mobiles):
            raise KavenegarError(400)
        localids: list[str | None] = list(given) if given else [None] * len(mobiles)
        pairs = list(zip(mobiles, localids, strict=True))
        fresh = [(m, lid) for m, lid in pairs if lid is None or lid not in self.gateway.localids]
        self._charge(text, len(fresh))
        self.world.counters["kavenegar.deduplicated"] += len(pairs) - len(fresh)
        return [_entry(self._deliver(mobile, text, sender, lid)) for mobile, lid in pairs]

    def _deliver(self, mobile: str, text: str, sender: str, localid: str | None) -> Message:
        existing = self.gateway.localids.get(localid) if localid is not None else None
        if existing is not None:
            return existing
        return self.world.accept(self.gateway, mobile, text, sender=sender, localid=localid)

    def _lookup(self, params: Params) -> list[dict[str, Any]]:
        mobile = self._mobile(_required(params, "receptor"))
        name = _required(params, "template")
        _required(params, "token")
        kind = params.get("type") or "sms"
        if kind not in ("sms", "call"):
            raise KavenegarError(400)
        template = self.gateway.templates.get(name)
        if template is None:
            raise KavenegarError(424)
        text = _render(template, params)
        self._charge(text, 1)
        message = self.world.accept(
            self.gateway, mobile, text, sender=self.gateway.lines[0], template=name, kind=kind
        )
        return [_entry(message)]

    def _status(self, params: Params) -> list[dict[str, Any]]:
        ids = _split(_required(params, "messageid"))
        if not ids:
            raise KavenegarError(400)
        if len(ids) > 500:
            raise KavenegarError(414)
        return [_status_entry(self._by_id(raw), raw) for raw in ids]

    def _by_id(self, raw: str) -> Message | None:
        return self.world.find("kavenegar", int(raw)) if raw.isdigit() else None

    def _status_local(self, params: Params) -> list[dict[str, Any]]:
        entries = []
        for localid in _split(_required(params, "localid")):
            message = self.gateway.localids.get(localid)
            entry = _status_entry(message, message.id if message else 0)
            entries.append({**entry, "localid": localid})
        return entries

    def _receive(self, params: Params) -> list[dict[str, Any]]:
        """A line's inbound SMS: isread=0 the unread ones (at most RECEIVE_BATCH, oldest
        first), which are marked read as they are handed over; isread=1 those read before."""
        line = _required(params, "linenumber")
        if line not in self.gateway.lines:
            raise KavenegarError(412)
        isread = _required(params, "isread")
        if isread not in ("0", "1"):
            raise KavenegarError(400)
        wanted = isread == "1"
        found = [
            m
            for m in self.world.inbound
            if m.gateway == "kavenegar" and m.line == line and m.read is wanted
        ][:RECEIVE_BATCH]
        for message in found:
            message.read = True
        return [
            {
                "messageid": m.id,
                "message": m.text,
                "sender": m.sender,
                "receptor": m.line,
                "date": int(m.time),
            }
            for m in found
        ]

    def _info(self, _params: Params) -> dict[str, Any]:
        expires = int(self.world.wallclock()) + 365 * 86400
        return {"remaincredit": self.gateway.credit, "expiredate": expires, "type": "master"}


def _render(template: str, params: Params) -> str:
    """Fill %token… placeholders; a token must follow Kavenegar's rules (else 431)."""
    text = template
    for name in TOKENS:
        value = params.get(name)
        if value is None:
            if f"%{name}" in text:
                raise KavenegarError(400)
            continue
        if len(value) > 100 or value.count(" ") > _TOKEN_SPACES[name] or not value.strip():
            raise KavenegarError(431)
        text = text.replace(f"%{name}", value)
    return text
