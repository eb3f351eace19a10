"""The aiohttp server: Bot API routes, the Telegram envelope, file downloads and lifecycle."""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from functools import partial
from typing import Any

from aiohttp import web

from . import errors
from .calls import Call, Handler
from .control import SandboxControl
from .control_http import control_routes
from .errors import ApiError
from .params import Params, read_params
from .platforms import platform_caps
from .ratelimit import Clock, RateLimits
from .registry import METHODS
from .webhook import start_delivery, stop_delivery
from .world import World

log = logging.getLogger("sandbox.botapi")
_dumps = partial(json.dumps, ensure_ascii=False)
_MAX_BODY = 52 * 1024 * 1024


def _reply(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.envelope(), status=exc.code, dumps=_dumps)


class BotApiSandbox(SandboxControl):
    """A fake of Telegram's (or Bale's) Bot API servers on loopback.

    Use ``async with BotApiSandbox(["123:ABC"]) as sandbox:`` then point PTB at
    ``sandbox.base_url`` and ``sandbox.base_file_url``.
    """

    def __init__(
        self,
        tokens: list[str] | tuple[str, ...] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        platform: str = "telegram",
        limits: RateLimits | None = None,
        clock: Clock = time.monotonic,
        wallclock: Clock = time.time,
        callback_ttl: float = 900.0,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the sandbox listens on loopback addresses only")
        world = World(
            caps=platform_caps(platform),
            clock=clock,
            wallclock=wallclock,
            callback_ttl=callback_ttl,
            webhook_retries=webhook_retries,
            webhook_retry_delay=webhook_retry_delay,
        )
        super().__init__(world, limits or RateLimits())
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        # An outage of the platform's front end: while set, every Bot API call gets this HTTP
        # status with an HTML page, as a proxy in front of Telegram or Bale answers (502, 503).
        self.outage: int | None = None
        for token in tokens:
            self.add_bot(token)

    # --- lifecycle -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (Bot API, file downloads, /_sandbox control endpoints)."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_routes(control_routes(self))
        return app

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one; read it from ``port``)."""
        self.world.closing = False
        # No access log: request lines carry the token and, for GET calls, message texts.
        runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        for bot in self.world.bots.values():
            if bot.webhook is not None and bot.webhook_task is None:
                start_delivery(self.world, bot)
        log.info("bot api sandbox listening on %s:%s (%s)", self.host, self._port, self.platform)

    async def stop(self) -> None:
        """Release long polls, stop webhook delivery and close the listener."""
        self.world.closing = True
        for bot in self.world.bots.values():
            bot.updates_changed.fire()
            await stop_delivery(bot)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def platform(self) -> str:
        """The platform the sandbox fakes: "telegram" or "bale"."""
        return self.world.caps.name

    @property
    def port(self) -> int:
        """The TCP port in use (after ``start``)."""
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8081``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``."""
        return f"{self.url}/file/bot"

    # --- Bot API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if self.outage is not None:
            return web.Response(
                status=self.outage, text="<html><body>Bad Gateway</body></html>",
                content_type="text/html",
            )  # fmt: skip
        name = request.match_info["method"]
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return _error(ApiError(401, errors.UNAUTHORIZED))
        spec = METHODS.get(name.lower())
        bot.calls[spec.name if spec else name] += 1
        if spec is None or name.lower() in self.world.caps.unsupported_methods:
            log.info("bot=%s method=%s -> 404", bot.id, name)
            return _error(ApiError(404, errors.NOT_FOUND))
        try:
            values, uploads = await read_params(request)
            call = Call(self.world, bot, Params(values, uploads, spec.params))
            result = await self._dispatch(call, spec.sends, spec.handler)
        except ApiError as exc:
            log.info("bot=%s method=%s -> %s", bot.id, spec.name, exc.code)
            return _error(exc)
        log.info("bot=%s method=%s%s", bot.id, spec.name, _ids(result))
        return _reply(result)

    async def _dispatch(self, call: Call, sends: bool, handler: Handler) -> Any:
        if not sends:
            return await handler(call)
        key = call.params.get_str("chat_id") or ""
        call.bot.limiter.check(key)
        result = await handler(call)
        call.bot.limiter.charge(key)
        return result

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.world.bots:
            return _error(ApiError(401, errors.UNAUTHORIZED))
        stored = self.world.files.by_path(request.match_info["path"])
        if stored is None:
            return _error(ApiError(404, errors.NOT_FOUND))
        return web.Response(body=stored.data, content_type=stored.mime_type)


def _ids(result: Any) -> str:
    """Ids worth logging from a result (never texts, names or numbers)."""
    if isinstance(result, dict) and "message_id" in result:
        return f" chat={result['chat']['id']} message_id={result['message_id']}"
    if isinstance(result, list) and result and isinstance(result[0], dict):
        ids = [item.get("update_id") for item in result if "update_id" in item]
        return f" update_ids={ids}" if ids else ""
    return ""
