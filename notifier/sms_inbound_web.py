"""Kavenegar's forward-to-URL callback: each SMS a phone sends our line, handed over at once.

Kavenegar calls the URL set in its panel with ``messageid``, ``from``, ``to`` and ``message``
(GET query or POST form; both are taken). It cannot sign a request, so the URL carries a
secret path component: set the panel's URL to
``https://<our host>/sms/inbound/kavenegar/<RADYAR_SMS_INBOUND_SECRET>``. A wrong secret gets
404 (nothing says the path exists), an address outside the optional allow-list
(``RADYAR_SMS_INBOUND_ALLOW``: the gateway's addresses) 403, a missing field 400, a database
that does not answer 503 (so the gateway may try again); anything handled, a repeat too, 200
``ok``. The URL is never logged (the listener has no access log): it holds the secret.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from clinic.sms_replies import IncomingSms
from notifier.peers import AllowList, peer_address
from notifier.sms_inbound import take_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

PATH = "/sms/inbound/kavenegar/{secret}"
MIN_SECRET = 16
MAX_TEXT = 2000  # characters kept of one message (Kavenegar's longest is 900)


def sms_inbound_routes(
    uow: Callable[[], UnitOfWork], secret: str, allow: AllowList | None = None
) -> list[web.RouteDef]:
    """The callback's route (GET and POST) for the app; ValueError for a secret shorter than
    16 characters."""
    if len(secret) < MIN_SECRET:
        raise ValueError(f"the SMS callback secret must be at least {MIN_SECRET} characters")
    expected = secret.encode()
    allowed = allow or AllowList()

    async def forwarded(request: web.Request) -> web.Response:
        peer = peer_address(request.remote)
        if not allowed.allows(peer):
            log.warning("sms callback refused: %s is not on the allow-list", peer)
            return web.Response(status=403, text="forbidden")
        if not hmac.compare_digest(request.match_info["secret"].encode(), expected):
            log.warning("sms callback refused from %s: wrong secret", peer)
            raise web.HTTPNotFound()
        message = await _message(request)
        if message is None:
            return web.Response(status=400, text="messageid, from and message are required")
        try:
            await take_in(uow, message)
        except Exception as exc:  # the database: the gateway may try again
            # Its type only: a database error's text quotes the statement's values.
            log.error("sms callback id=%s: handling failed (%s)", message.message_id[:64],
                      type(exc).__name__)  # fmt: skip
            return web.Response(status=503, text="unavailable")
        return web.Response(text="ok")

    return [web.route("*", PATH, forwarded)]


async def _message(request: web.Request) -> IncomingSms | None:
    params = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    message_id, sender = params.get("messageid", "").strip(), params.get("from", "").strip()
    if not message_id or not sender or "message" not in params:
        return None
    return IncomingSms(
        provider="kavenegar",
        message_id=message_id,
        sender=sender,
        text=params["message"][:MAX_TEXT],
        line=params.get("to", "").strip(),
    )
