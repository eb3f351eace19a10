"""The demo page's API driven over HTTP, as its JavaScript drives it: act as a persona through
the forwarded Bot API sandbox controls, read their chat and phone, move the clock."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clinic.i18n import translator

if TYPE_CHECKING:
    import aiohttp

WAIT = 15.0
QUIET = 0.25  # the bot has answered once its messages stopped changing for this long
CODE = re.compile(r"(?<![0-9۰-۹])[0-9۰-۹]{5}(?![0-9۰-۹])")  # the one-time code in an SMS


def fa(msgid: str) -> str:
    """The Persian of a msgid."""
    return translator("fa").gettext(msgid)


def fixed_part(msgid: str) -> str:
    """The Persian text before the first placeholder: what every such message starts with."""
    return fa(msgid).split("{")[0].strip()


@dataclass
class DemoClient:
    """The page's side of the demo: same origin, JSON in and out."""

    http: aiohttp.ClientSession
    url: str  # http://127.0.0.1:PORT/

    @property
    def origin(self) -> str:
        """What a browser sends as ``Origin`` from the page."""
        return self.url.rstrip("/")

    async def get(self, path: str) -> Any:
        async with self.http.get(self.url + path.lstrip("/")) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.post(
            self.url + path.lstrip("/"),
            data=json.dumps(body or {}),
            headers={"Content-Type": "application/json", "Origin": self.origin},
        ) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    # --- reading ---------------------------------------------------------------------------

    async def chat(self, user_id: int) -> list[dict[str, Any]]:
        """The chat as the page shows it, both sides, oldest first."""
        return list((await self.get(f"api/chats/{user_id}"))["messages"])

    async def keyboard(self, user_id: int) -> list[str]:
        """The labels of the reply keyboard the persona sees."""
        board = (await self.get(f"api/chats/{user_id}"))["keyboard"] or {}
        return [b["text"] for row in board.get("keyboard", []) for b in row]

    async def bot_texts(self, user_id: int) -> list[str]:
        return [m["text"] for m in await self.chat(user_id) if not m["out"]]

    async def wait_for(self, user_id: int, fragment: str) -> str:
        """The bot's first message to contain ``fragment``, waiting for it (WAIT at most)."""
        async with asyncio.timeout(WAIT):
            while True:
                found = [t for t in await self.bot_texts(user_id) if fragment in t]
                if found:
                    return found[0]
                await asyncio.sleep(0.1)

    async def settle(self, user_id: int, before: str) -> None:
        """Until the chat differs from ``before`` and then stays the same for QUIET."""
        async with asyncio.timeout(WAIT):
            now = before
            while now == before:
                await asyncio.sleep(0.05)
                now = json.dumps(await self.chat(user_id))
            while True:
                await asyncio.sleep(QUIET)
                later = json.dumps(await self.chat(user_id))
                if later == now:
                    return
                now = later

    async def sms(self, mobile: str) -> list[str]:
        """The texts the gateway sandbox accepted for ``mobile``."""
        return [m["text"] for m in (await self.get(f"sandbox/sms/inbox/{mobile}"))["result"]]

    async def next_sms(self, mobile: str, seen: int) -> str:
        """The first text for ``mobile`` after the ``seen`` it had, waiting for the worker."""
        async with asyncio.timeout(WAIT):
            while len(texts := await self.sms(mobile)) <= seen:  # noqa: ASYNC110 - over HTTP
                await asyncio.sleep(0.1)
        return texts[seen]

    # --- acting ----------------------------------------------------------------------------

    async def _act(self, user_id: int, action: str, body: dict[str, Any]) -> Any:
        before = json.dumps(await self.chat(user_id))
        result = (await self.post(f"sandbox/bot/users/{user_id}/{action}", body))["result"]
        await self.settle(user_id, before)
        return result

    async def say(self, user_id: int, text: str) -> None:
        await self._act(user_id, "text", {"text": text})

    async def tap(self, user_id: int, label: str) -> None:
        """A reply-keyboard button (the contact button shares the own number)."""
        await self._act(user_id, "keyboard", {"text": label})

    async def buttons(self, user_id: int) -> list[tuple[int, str, str]]:
        """The newest bot message's inline buttons: (message id, label, callback data)."""
        for message in reversed(await self.chat(user_id)):
            if message["buttons"] and not message["out"]:
                return [
                    (message["id"], b["text"], b["data"])
                    for row in message["buttons"]
                    for b in row
                    if b["data"]
                ]
        return []

    async def press(self, user_id: int, label: str | None = None, *, index: int = 0) -> None:
        """An inline button of the newest message that has some, by label or position."""
        found = await self.buttons(user_id)
        chosen = [b for b in found if label is None or b[1] == label]
        assert chosen, (label, [b[1] for b in found])
        message_id, _label, data = chosen[0 if label else index]
        await self._act(user_id, "press", {"message_id": message_id, "data": data})

    async def photo(self, user_id: int, data_base64: str) -> None:
        await self._act(user_id, "photo", {"data_base64": data_base64, "mime_type": "image/png"})

    async def advance(self, step: str) -> dict[str, Any]:
        return dict(await self.post("api/clock", {"step": step}))
