"""The aiohttp server: Kavenegar and SMS.ir side by side on one loopback port, plus /_sandbox/."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from .control import SmsControl
from .control_http import control_routes
from .forward import Forwarder
from .kavenegar import KavenegarApi
from .smsir import SmsIrApi
from .world import Clock, Gateway, World

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .world import Inbound

log = logging.getLogger("sandbox.sms")


class SmsSandbox(SmsControl):
    """A fake of Kavenegar's and SMS.ir's servers on loopback.

    ``async with SmsSandbox(kavenegar_keys=["k"], smsir_keys=["s"]) as sandbox:`` then point a
    provider's base URL at ``sandbox.url`` (both gateways answer there: their paths differ).
    """

    def __init__(
        self,
        *,
        kavenegar_keys: Iterable[str] = (),
        smsir_keys: Iterable[str] = (),
        kavenegar_lines: Iterable[str] = ("10004346",),
        smsir_lines: Iterable[str] = ("30007732000000",),
        credit: int = 1_000_000,
        price_per_part: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
        wallclock: Clock = time.time,
        auto_advance: float | None = None,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the sandbox listens on loopback addresses only")
        gateways = {
            "kavenegar": Gateway(
                "kavenegar", set(kavenegar_keys), list(kavenegar_lines), credit, price_per_part
            ),
            "smsir": Gateway("smsir", set(smsir_keys), list(smsir_lines), credit, price_per_part),
        }
        super().__init__(World(gateways, wallclock))
        self.host = host
        self._port = port
        self._auto_advance = auto_advance
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._forwarder = Forwarder()

    def make_app(self) -> web.Application:
        """The aiohttp application (both gateways and the /_sandbox/ control endpoints)."""
        app = web.Application()
        app.router.add_routes(control_routes(self, self))
        app.router.add_routes(SmsIrApi(self.world).routes())
        app.router.add_routes(KavenegarApi(self.world).routes())
        return app

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one; read it from ``port``)."""
        # No access log: Kavenegar URLs carry the API key and GET calls carry numbers and texts.
        runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        if self._auto_advance:
            self._ticker = asyncio.create_task(self._tick(self._auto_advance))
        log.info("sms sandbox listening on %s:%s", self.host, self._port)

    async def stop(self) -> None:
        """Release hangs, stop the delivery ticker and close the listener."""
        self.world.release_hangs()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._forwarder.close()

    async def text_us(
        self, number: str, text: str, *, gateway: str = "kavenegar", line: str | None = None
    ) -> Inbound:
        """The phone ``number`` sends ``text`` to our line (``phone_sends``); with a forward
        URL set (``set_forward_url``) the gateway calls it before this returns."""
        message = self.phone_sends(number, text, gateway=gateway, line=line)
        if self.world.gateway(gateway).forward_url is not None:
            await self.forward(message)
        return message

    async def forward(self, message: Inbound) -> int:
        """Forward ``message`` (again: a gateway unsure of the first call repeats it); the
        HTTP status our side answered with, 0 for none."""
        return await self._forwarder.forward(self.world.gateway(message.gateway), message)

    async def _tick(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.world.advance()

    async def __aenter__(self) -> SmsSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port in use (after ``start``)."""
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8090``: the base URL for both providers."""
        return f"http://{self.host}:{self._port}"
