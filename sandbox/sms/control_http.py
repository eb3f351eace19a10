"""HTTP endpoints of the control API under /_sandbox/ (JSON in, {"ok", "result"} out)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from .control import SmsControl
    from .world import Inbound


class Phones(Protocol):
    """What makes a phone text us over HTTP (the running sandbox: it can forward)."""

    async def text_us(
        self, number: str, text: str, *, gateway: str = ..., line: str | None = ...
    ) -> Inbound:
        """The phone sends our line an SMS (forwarded when a URL is set)."""
        ...

    async def forward(self, message: Inbound) -> int:
        """Forward the message (again)."""
        ...


_dumps = partial(json.dumps, ensure_ascii=False)
Endpoint = Callable[[web.Request], Awaitable[web.Response]]

# /_sandbox/{gateway}/{action} → (SmsControl method, keyword arguments it takes from the body)
_GATEWAY_ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "keys": ("add_key", frozenset({"key"})),
    "lines": ("add_line", frozenset({"line"})),
    "templates": ("add_template", frozenset({"template", "text"})),
    "credit": ("set_credit", frozenset({"amount"})),
    "hang": ("hang_next", frozenset({"count", "seconds", "then_process"})),
    "fail": ("fail_next", frozenset({"count", "status", "retry_after"})),
    "invalid": ("mark_invalid", frozenset({"number"})),
    "undeliverable": ("mark_undeliverable", frozenset({"number"})),
}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _fail(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status, dumps=_dumps)


def _guarded(endpoint: Endpoint) -> Endpoint:
    async def wrapper(request: web.Request) -> web.Response:
        try:
            return await endpoint(request)
        except (ValueError, TypeError, KeyError) as exc:
            return _fail(400, str(exc))

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("JSON object expected")
    return body


def control_routes(control: SmsControl, phones: Phones | None = None) -> list[web.RouteDef]:
    """The routes, bound to one sandbox (``phones``: the running server, which forwards)."""

    async def inbox(request: web.Request) -> web.Response:
        return _ok([m.to_json() for m in control.inbox(request.match_info["number"])])

    async def messages(request: web.Request) -> web.Response:
        found = control.messages(request.query.get("gateway"))
        return _ok([m.to_json() for m in found])

    async def requests(request: web.Request) -> web.Response:
        return _ok([r.to_json() for r in control.requests(request.query.get("gateway"))])

    async def counters(_request: web.Request) -> web.Response:
        return _ok(dict(control.counters))

    async def credit(request: web.Request) -> web.Response:
        return _ok(control.credit(request.match_info["gateway"]))

    async def reset(_request: web.Request) -> web.Response:
        control.reset()
        return _ok(True)

    async def release(_request: web.Request) -> web.Response:
        control.release_hangs()
        return _ok(True)

    async def advance(request: web.Request) -> web.Response:
        body = await _body(request)
        steps = int(body.get("steps", 1))
        return _ok(control.advance(steps, body.get("gateway")))

    async def gateway_action(request: web.Request) -> web.Response:
        action = _GATEWAY_ACTIONS.get(request.match_info["action"])
        if action is None:
            return _fail(404, "unknown action")
        name, allowed = action
        body = await _body(request)
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unexpected fields: {sorted(unknown)}")
        getattr(control, name)(gateway=request.match_info["gateway"], **body)
        return _ok(True)

    async def inbound(request: web.Request) -> web.Response:
        return _ok([m.to_json() for m in control.inbound(request.query.get("gateway"))])

    async def phone(request: web.Request) -> web.Response:
        body = await _body(request)
        unknown = set(body) - {"number", "text", "line"}
        if unknown:
            raise ValueError(f"unexpected fields: {sorted(unknown)}")
        gateway, line = request.match_info["gateway"], body.get("line")
        number, text = str(body["number"]), str(body["text"])
        if phones is None:
            return _ok(control.phone_sends(number, text, gateway=gateway, line=line).to_json())
        sent = await phones.text_us(number, text, gateway=gateway, line=line)
        return _ok(sent.to_json())

    async def forward_url(request: web.Request) -> web.Response:
        body = await _body(request)
        if request.match_info["gateway"] != "kavenegar":
            raise ValueError("only Kavenegar forwards inbound SMS to a URL")
        control.set_forward_url(body.get("url"), method=str(body.get("method", "GET")))
        return _ok(True)

    async def forward(request: web.Request) -> web.Response:
        body = await _body(request)
        gateway, wanted = request.match_info["gateway"], int(body["id"])
        found = [m for m in control.inbound(gateway) if m.id == wanted]
        if not found or phones is None:
            return _fail(404, "no such inbound message, or no server to forward it")
        return _ok(await phones.forward(found[0]))

    return [
        web.get("/_sandbox/inbound", _guarded(inbound)),
        web.post("/_sandbox/{gateway}/phone", _guarded(phone)),
        web.post("/_sandbox/{gateway}/forward-url", _guarded(forward_url)),
        web.post("/_sandbox/{gateway}/forward", _guarded(forward)),
        web.get("/_sandbox/inbox/{number}", _guarded(inbox)),
        web.get("/_sandbox/messages", _guarded(messages)),
        web.get("/_sandbox/requests", _guarded(requests)),
        web.get("/_sandbox/counters", _guarded(counters)),
        web.get("/_sandbox/{gateway}/credit", _guarded(credit)),
        web.post("/_sandbox/reset", _guarded(reset)),
        web.post("/_sandbox/release", _guarded(release)),
        web.post("/_sandbox/advance", _guarded(advance)),
        web.post("/_sandbox/{gateway}/{action}", _guarded(gateway_action)),
    ]
