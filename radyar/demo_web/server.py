"""The demo's web page and its API on 127.0.0.1: the page, the sandboxes' control APIs
forwarded (acting as the personas, reading their chats and phones), the clock, the hospital's
buttons and the staff page."""

from __future__ import annotations

import json
import logging
import re
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web

from clinic.errors import ClinicError
from clinic.i18n import translator
from clinic.jalali import format_date, format_time, to_tehran
from radyar.demo_web import people
from radyar.demo_web.stack import STEPS, TOKEN
from radyar.demo_web.staff_view import staff_page

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from radyar.demo_web.stack import Demo

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
DEMO: web.AppKey[Demo] = web.AppKey("demo")
SENT: web.AppKey[SentLog] = web.AppKey("sent")
LOCAL_NAMES = frozenset({"127.0.0.1", "localhost"})
MAX_UPLOAD = 12 * 1024 * 1024  # a phone photo of a prescription, base64
_dumps = partial(json.dumps, ensure_ascii=False)
# What the page may ask of the Bot API sandbox: act as a user, read a chat, a press's answer.
BOT_PATHS = re.compile(
    r"users/(?P<user>\d+)/(?P<action>text|command|contact|photo|document|keyboard|press|edit)"
    r"|chats/\d+/(messages|keyboard|last)|callbacks/\d+"
)
SENDS = frozenset({"text", "command", "contact", "photo", "document", "keyboard", "edit"})
SMS_PATHS = re.compile(r"inbox/[0-9+]{10,14}|messages")
QUERY = frozenset({"include_deleted", "wait", "timeout"})
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; font-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


class SentLog:
    """What the visitor sent as each persona, as the sandbox stored it: the Bot API holds
    the bot's messages for reading, and the chat shows both sides."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.by_user: dict[int, dict[int, dict[str, Any]]] = {}

    def add(self, user_id: int, message: dict[str, Any]) -> None:
        """Keep (or, after an edit, replace) one of the user's messages."""
        kept = self.by_user.setdefault(user_id, {})
        kept[int(message["message_id"])] = message
        while len(kept) > self.limit:
            kept.pop(min(kept))

    def of(self, user_id: int) -> list[dict[str, Any]]:
        """The user's messages, oldest first."""
        kept = self.by_user.get(user_id, {})
        return [kept[i] for i in sorted(kept)]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _problem(status: int, message: str, code: str = "") -> web.Response:
    """An error the page shows: its Persian words for ``code`` (app.js), else ``message``."""
    return _json({"error": message, "code": code}, status)


def _local(host: str | None) -> bool:
    name = (urlsplit(f"//{host}").hostname or "") if host else ""
    return name in LOCAL_NAMES


@web.middleware
async def guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Only this machine's own page: a request naming another host (DNS rebinding) or a
    change posted from another origin is refused; every answer keeps the page offline."""
    if not _local(request.host):
        return _problem(421, "this demo answers on 127.0.0.1 only")
    origin = request.headers.get("Origin")
    if request.method not in ("GET", "HEAD") and (
        origin is None or not _local(urlsplit(origin).netloc)
    ):
        return _problem(403, "changes are accepted from the demo's own page only")
    try:
        response = await handler(request)
    except ClinicError as exc:
        response = _problem(400, exc.render(translator("fa").gettext, persian_digits=True))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- the page ------------------------------------------------------------------------------


async def index(_request: web.Request) -> web.FileResponse:
    """The page."""
    return web.FileResponse(STATIC / "index.html")


# --- the sandboxes' control APIs, forwarded ------------------------------------------------


async def _forward(request: web.Request, base: str, tail: str) -> tuple[int, bytes]:
    demo = request.app[DEMO]
    query = {k: v for k, v in request.query.items() if k in QUERY}
    body = await request.read() if request.method == "POST" else None
    async with demo.http.request(
        request.method, f"{base}/_sandbox/{tail}", params=query, data=body,
        headers={"Content-Type": "application/json"} if body is not None else None,
    ) as answer:  # fmt: skip
        return answer.status, await answer.read()


async def bot_control(request: web.Request) -> web.Response:
    """The Bot API sandbox's control API, for the personas only."""
    tail = request.match_info["tail"]
    found = BOT_PATHS.fullmatch(tail)
    if found is None:
        return _problem(404, "not a control call the page makes")
    user = found.group("user")
    if user is not None and people.by_user(int(user)) is None:
        return _problem(404, "not one of the demo's people")
    if (request.method == "POST") != (user is not None):
        return _problem(405, "acting is POST, reading is GET")
    status, payload = await _forward(request, request.app[DEMO].chat.url, tail)
    if user is not None and status == 200 and found.group("action") in SENDS:
        result = json.loads(payload).get("result")
        if isinstance(result, dict) and "message_id" in result:
            request.app[SENT].add(int(user), result)
    return web.Response(body=payload, status=status, content_type="application/json")


async def sms_control(request: web.Request) -> web.Response:
    """The SMS gateway sandbox's control API, read only: what each phone received."""
    tail = request.match_info["tail"]
    if SMS_PATHS.fullmatch(tail) is None or request.method != "GET":
        return _problem(404, "not a control call the page makes")
    status, payload = await _forward(request, request.app[DEMO].sms.url, tail)
    return web.Response(body=payload, status=status, content_type="application/json")


# --- a chat, both sides --------------------------------------------------------------------


def _view(
    message: dict[str, Any], *, out: bool, markup: Any = None, edits: int = 0
) -> dict[str, Any]:
    moment = datetime.fromtimestamp(int(message.get("date", 0)), UTC)
    view: dict[str, Any] = {
        "id": int(message["message_id"]),
        "out": out,
        "time": format_time(moment, "fa"),
        "text": message.get("text") or message.get("caption") or "",
        "entities": message.get("entities") or message.get("caption_entities") or [],
        "edited": edits > 0 or "edit_date" in message,
        "buttons": [
            [
                {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
                for b in row
            ]
            for row in (markup or {}).get("inline_keyboard", [])
        ],
    }
    if message.get("photo"):
        biggest = max(message["photo"], key=lambda size: size.get("width", 0))
        view["photo"] = f"/api/files/{quote(biggest['file_id'])}"
    if message.get("document"):
        document = message["document"]
        view["document"] = {
            "name": document.get("file_name") or "file",
            "url": f"/api/files/{quote(document['file_id'])}",
        }
    if message.get("contact"):
        contact = message["contact"]
        view["contact"] = {
            "phone": contact.get("phone_number", ""),
            "name": contact.get("first_name", ""),
        }
    return view


async def chat(request: web.Request) -> web.Response:
    """One persona's chat with the bot, oldest first, and the reply keyboard they see."""
    demo, user_id = request.app[DEMO], int(request.match_info["user_id"])
    if people.by_user(user_id) is None:
        return _problem(404, "not one of the demo's people")
    base = f"{demo.chat.url}/_sandbox/chats/{user_id}"
    stored: list[dict[str, Any]] = []
    keyboard = None
    async with demo.http.get(f"{base}/messages", params={"include_deleted": "false"}) as r:
        if r.status == 200:  # 404 until the persona's chat has begun
            stored = (await r.json())["result"]
    async with demo.http.get(f"{base}/keyboard") as r:
        if r.status == 200:
            keyboard = (await r.json())["result"]
    views = [
        _view(m["message"], out=False, markup=m.get("reply_markup"), edits=int(m.get("edits", 0)))
        for m in stored
    ]
    views += [_view(m, out=True) for m in request.app[SENT].of(user_id)]
    views.sort(key=lambda v: v["id"])
    return _json({"messages": views, "keyboard": keyboard})


async def file(request: web.Request) -> web.Response:
    """A photo or document in the sandbox (the bot's or a persona's), as the Bot API serves
    it: getFile, then the download."""
    demo = request.app[DEMO]
    file_id = request.match_info["file_id"]
    async with demo.http.post(
        f"{demo.chat.base_url}{TOKEN}/getFile", json={"file_id": file_id}
    ) as r:
        found = await r.json()
    if not found.get("ok"):
        return _problem(404, "no such file")
    path = found["result"]["file_path"]
    async with demo.http.get(f"{demo.chat.base_file_url}{TOKEN}/{path}") as r:
        data, kind = await r.read(), r.content_type
    return web.Response(body=data, content_type=kind or "application/octet-stream")


# --- the clock, the people ------------------------------------------------------------------


def _state(demo: Demo) -> dict[str, Any]:
    now = demo.clock.now()
    return {
        "now": now.isoformat(),
        "date": format_date(to_tehran(now).date(), "fa"),
        "time": format_time(now, "fa"),
        "personas": [p.to_json() for p in people.PEOPLE],
        "orthanc": demo.hospital.orthanc is not None,
        "steps": [*STEPS, "morning"],
    }


async def state(request: web.Request) -> web.Response:
    """The demo's time and people."""
    return _json(_state(request.app[DEMO]))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def clock(request: web.Request) -> web.Response:
    """Move the clock on: ``{"step": "15m" | "1h" | "1d" | "morning"}``."""
    demo, step = request.app[DEMO], str((await _body(request)).get("step", ""))
    if step not in STEPS and step != "morning":
        return _problem(400, "unknown step")
    await demo.advance(step)
    return _json(_state(demo))


# --- the hospital, the staff page ----------------------------------------------------------


async def hospital(request: web.Request) -> web.Response:
    """The admitted bookings the hospital can send news of, and whether Orthanc runs."""
    demo = request.app[DEMO]
    admitted = await demo.hospital.admitted()
    return _json(
        {"admitted": [a.to_json() for a in admitted], "orthanc": demo.hospital.orthanc is not None}
    )


def _accession(body: dict[str, Any]) -> str | None:
    raw = str(body.get("accession", "")).strip()
    return raw if 0 < len(raw) <= 64 else None


async def hospital_act(request: web.Request) -> web.Response:
    """``report`` (HL7 ORU^R01 over MLLP), ``webhook`` (the HIS, signed) or ``images``
    (Orthanc): ``{"accession": "…", "corrected": false}``."""
    demo, action = request.app[DEMO], request.match_info["action"]
    body = await _body(request)
    accession = _accession(body)
    if accession is None:
        return _problem(400, "write the accession number (1-64 characters)", "no_accession")
    corrected = bool(body.get("corrected"))
    try:
        if action == "report":
            answer = await demo.hospital.send_report(accession, corrected=corrected)
            return _json({"answer": answer})
        if action == "webhook":
            status, text = await demo.hospital.post_webhook(accession, corrected=corrected)
            return _json({"answer": f"HTTP {status} {text}"})
        if demo.hospital.orthanc is None:
            return _problem(409, "Orthanc is not installed here", "no_orthanc")
        return _json({"answer": f"Orthanc: {await demo.hospital.images_ready(accession)}"})
    except LookupError:
        return _problem(404, "no admitted booking has this accession number", "not_admitted")
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        log.warning("the hospital's %s did not get through: %s", action, type(exc).__name__)
        return _problem(502, "the listener did not answer", "no_answer")


async def staff(request: web.Request) -> web.Response:
    """The staff page: today's day lists and the e-booking share."""
    return _json(await staff_page(request.app[DEMO].app))


def make_app(demo: Demo) -> web.Application:
    """The page and its API over ``demo``."""
    app = web.Application(middlewares=[guard], client_max_size=MAX_UPLOAD)
    app[DEMO] = demo
    app[SENT] = SentLog()
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/clock", clock)
    app.router.add_get("/api/chats/{user_id:\\d+}", chat)
    app.router.add_get("/api/files/{file_id}", file)
    app.router.add_get("/api/hospital", hospital)
    app.router.add_post("/api/hospital/{action:report|webhook|images}", hospital_act)
    app.router.add_get("/api/staff", staff)
    app.router.add_route("*", "/sandbox/bot/{tail:.+}", bot_control)
    app.router.add_route("*", "/sandbox/sms/{tail:.+}", sms_control)
    return app


@asynccontextmanager
async def serving_page(demo: Demo, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the page on ``host:port`` (127.0.0.1 only: ValueError for any other host); its
    URL."""
    if host != "127.0.0.1":
        raise ValueError("the demo page listens on 127.0.0.1 only")
    runner = web.AppRunner(make_app(demo), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = int(runner.addresses[0][1])
        yield f"http://127.0.0.1:{bound}/"
    finally:
        await runner.cleanup()
