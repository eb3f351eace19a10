"""HTTP endpoints of the control API under /_sandbox/ (JSON in, Telegram-style envelope out)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .ratelimit import RateLimits

if TYPE_CHECKING:
    from .control import SandboxControl

_dumps = partial(json.dumps, ensure_ascii=False)
Endpoint = Callable[[web.Request], Awaitable[web.Response]]

# action -> (SandboxControl method, keyword arguments it accepts from the JSON body)
_ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "text": (
        "send_text",
        frozenset({"text", "group_id", "forward_from", "forward_sender_name", "reply_to"}),
    ),
    "command": ("send_command", frozenset({"command", "payload", "group_id"})),
    "edit": ("edit_text", frozenset({"message_id", "text"})),
    "contact": (
        "send_contact",
        frozenset({"phone_number", "first_name", "last_name", "contact_user_id"}),
    ),
    "photo": ("send_photo", frozenset({"data", "caption", "mime_type", "width", "height"})),
    "document": ("send_document", frozenset({"data", "file_name", "mime_type", "caption"})),
    "sticker": ("send_sticker", frozenset({"emoji"})),
    "voice": ("send_voice", frozenset({"data", "duration"})),
    "location": ("send_location", frozenset({"latitude", "longitude"})),
    "press": ("press_button", frozenset({"text", "data", "message_id"})),
    "callback": ("forge_callback", frozenset({"message_id", "data"})),
    "keyboard": ("tap_keyboard", frozenset({"text"})),
    "block": ("block", frozenset()),
    "unblock": ("unblock", frozenset()),
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
        except LookupError as exc:
            return _fail(404, str(exc))
        except TimeoutError as exc:
            return _fail(408, str(exc))
        except (ValueError, TypeError, RuntimeError, binascii.Error) as exc:
            return _fail(400, str(exc))

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("JSON object expected")
    return body


def _token(request: web.Request, body: dict[str, Any]) -> str | None:
    token = body.pop("token", None) or request.query.get("token")
    return None if token is None else str(token)


def control_routes(control: SandboxControl) -> list[web.RouteDef]:
    """Routes of the control API bound to one sandbox."""

    async def add_bot(request: web.Request) -> web.Response:
        body = await _body(request)
        return _ok(control.add_bot(str(body.pop("token")), **body))

    async def create_user(request: web.Request) -> web.Response:
        return _ok(asdict(control.create_user(**await _body(request))))

    async def list_users(_request: web.Request) -> web.Response:
        return _ok([asdict(user) for user in control.world.users.values()])

    async def create_group(request: web.Request) -> web.Response:
        return _ok(control.create_group(**await _body(request)))

    async def act(request: web.Request) -> web.Response:
        body = await _body(request)
        token = _token(request, body)
        method, allowed = _ACTIONS[request.match_info["action"]]
        if "data_base64" in body:
            body["data"] = base64.b64decode(body.pop("data_base64"), validate=True)
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        user_id = int(request.match_info["user_id"])
        return _ok(getattr(control, method)(user_id, token=token, **body))

    def _chat_args(request: web.Request) -> tuple[int, str | None]:
        return int(request.match_info["chat_id"]), request.query.get("token")

    async def messages(request: web.Request) -> web.Response:
        chat_id, token = _chat_args(request)
        include = request.query.get("include_deleted", "true") != "false"
        found = control.messages_to(chat_id, token=token, include_deleted=include)
        return _ok([message.to_json() for message in found])

    async def last(request: web.Request) -> web.Response:
        chat_id, token = _chat_args(request)
        message = control.last_message(chat_id, token=token)
        return _ok(message.to_json() if message else None)

    async def next_message(request: web.Request) -> web.Response:
        chat_id, token = _chat_args(request)
        timeout = float(request.query.get("timeout", "5"))
        message = await control.wait_for_message(chat_id, timeout=timeout, token=token)
        return _ok(message.to_json())

    async def keyboard(request: web.Request) -> web.Response:
        chat_id, token = _chat_args(request)
        return _ok(control.current_keyboard(chat_id, token=token))

    async def callback(request: web.Request) -> web.Response:
        query_id, token = request.match_info["query_id"], request.query.get("token")
        if "wait" in request.query:
            timeout = float(request.query["wait"])
            return _ok(await control.wait_for_answer(query_id, timeout=timeout, token=token))
        return _ok(control.callback_answer(query_id, token=token))

    async def stats(request: web.Request) -> web.Response:
        return _ok(control.request_counts(token=request.query.get("token")))

    async def updates(request: web.Request) -> web.Response:
        return _ok(control.pending_updates(token=request.query.get("token")))

    async def limits(request: web.Request) -> web.Response:
        if request.method == "PUT":
            control.set_limits(RateLimits(**await _body(request)))
        return _ok(asdict(control.limits))

    async def reset(_request: web.Request) -> web.Response:
        await control.reset()
        return _ok(True)

    prefix = "/_sandbox"
    table: list[tuple[str, str, Endpoint]] = [
        ("POST", "/bots", add_bot),
        ("POST", "/users", create_user),
        ("GET", "/users", list_users),
        ("POST", "/groups", create_group),
        ("POST", "/users/{user_id}/{action:" + "|".join(_ACTIONS) + "}", act),
        ("GET", "/chats/{chat_id}/messages", messages),
        ("GET", "/chats/{chat_id}/last", last),
        ("GET", "/chats/{chat_id}/next", next_message),
        ("GET", "/chats/{chat_id}/keyboard", keyboard),
        ("GET", "/callbacks/{query_id}", callback),
        ("GET", "/stats", stats),
        ("GET", "/updates", updates),
        ("GET", "/limits", limits),
        ("PUT", "/limits", limits),
        ("POST", "/reset", reset),
    ]
    return [web.route(method, prefix + path, _guarded(fn)) for method, path, fn in table]
