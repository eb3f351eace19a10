"""Kavenegar's forward-to-URL: each SMS a phone sends our line, passed on to a loopback URL
with ``messageid``, ``from``, ``to`` and ``message`` (GET query by default, or POST form)."""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from .world import Gateway, Inbound

log = logging.getLogger("sandbox.sms")
TIMEOUT = aiohttp.ClientTimeout(total=10)


def check_url(url: str) -> str:
    """``url`` if it is http(s) to a loopback host (the sandbox reaches nothing else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the forward URL must be an http:// or https:// URL")
    host = parts.hostname
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError("the sandbox forwards to loopback addresses only")
    return url


class Forwarder:
    """Calls a gateway's forward URL for an inbound SMS (a second call is a repeat delivery,
    as a real gateway makes when it is not sure the first one arrived)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP client, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(self, gateway: Gateway, message: Inbound) -> int:
        """Call the URL once; its HTTP status (0: no answer) is added to ``message.forwards``."""
        if gateway.forward_url is None:
            raise ValueError(f"{gateway.name} has no forward URL")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        fields = {
            "messageid": str(message.id),
            "from": message.sender,
            "to": message.line,
            "message": message.text,
        }
        post = gateway.forward_method == "POST"
        try:
            async with self._session.request(
                gateway.forward_method,
                gateway.forward_url,
                params=None if post else fields,
                data=fields if post else None,
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        message.forwards.append(status)
        log.info("%s forward of inbound %s -> %s", gateway.name, message.id, status)
        return status
