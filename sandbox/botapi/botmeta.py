"""Bot-level methods: identity, getUpdates long polling, webhooks, commands and descriptions."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlparse

from . import errors
from .calls import Call, Handler, spec
from .errors import ApiError, bad_request
from .webhook import start_delivery, stop_delivery
from .world import JSON, Webhook

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SCOPES_WITH_CHAT = frozenset({"chat", "chat_administrators", "chat_member"})
_SCOPES = _SCOPES_WITH_CHAT | {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
}
_MAX_COMMANDS = 100
_TEXT_LIMITS = {"description": 512, "short_description": 120}


async def get_me(call: Call) -> JSON:
    """``getMe``: the bot's own user."""
    return call.bot.user


async def get_updates(call: Call) -> list[JSON]:
    """getUpdates: long polling; a newer call ends an older waiting one with 409 Conflict."""
    bot, params = call.bot, call.params
    if bot.webhook is not None:
        raise ApiError(409, errors.WEBHOOK_ACTIVE)
    allowed = params.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(kind) for kind in allowed]
    offset = params.get_int("offset")
    if offset is not None:
        bot.confirm(offset)
    limit = min(100, max(1, params.get_int("limit") or 100))
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.updates_changed.fire()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, params.get_float("timeout") or 0.0)
    while not bot.pending and not call.world.closing:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await bot.updates_changed.wait(remaining)
        if bot.poll_generation != generation:
            raise ApiError(409, errors.TERMINATED)
        if bot.webhook is not None:
            return []
    return bot.pending[:limit]


def _webhook_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise bad_request("bad webhook: invalid webhook URL specified")
    if parsed.hostname not in _LOOPBACK:
        raise bad_request("bad webhook: the sandbox delivers webhooks to loopback only")
    return url


async def set_webhook(call: Call) -> bool:
    """setWebhook: loopback URLs only (plain HTTP allowed, unlike Telegram); empty url deletes."""
    bot, params = call.bot, call.params
    url = params.get_str("url") or ""
    if not url:
        return await _remove_webhook(call)
    secret = params.get_str("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = params.get_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get_json("allowed_updates")
    hook = Webhook(_webhook_url(url), secret, max_connections, _update_types(allowed))
    await stop_delivery(bot)
    if params.get_bool("drop_pending_updates"):
        bot.pending.clear()
    bot.webhook = hook
    start_delivery(call.world, bot)
    bot.updates_changed.fire()
    return True


def _update_types(allowed: Any) -> list[str] | None:
    if allowed is None:
        return None
    if not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON array")
    return [str(kind) for kind in allowed]


async def _remove_webhook(call: Call) -> bool:
    await stop_delivery(call.bot)
    call.bot.webhook = None
    if call.params.get_bool("drop_pending_updates"):
        call.bot.pending.clear()
    return True


async def delete_webhook(call: Call) -> bool:
    """``deleteWebhook``: remove the bot's webhook."""
    return await _remove_webhook(call)


async def get_webhook_info(call: Call) -> JSON:
    """``getWebhookInfo``: the webhook's URL and how many updates wait for it."""
    bot = call.bot
    info: JSON = {
        "url": bot.webhook.url if bot.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.pending),
    }
    if bot.webhook is not None:
        info["max_connections"] = bot.webhook.max_connections
        if bot.webhook.allowed_updates is not None:
            info["allowed_updates"] = bot.webhook.allowed_updates
    if bot.last_error is not None:
        info["last_error_date"], info["last_error_message"] = bot.last_error
    return info


def _commands_key(call: Call) -> tuple[str, str]:
    scope: Any = call.params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in _SCOPES_WITH_CHAT and "chat_id" not in scope:
        raise bad_request(errors.CHAT_NOT_FOUND)
    language = call.params.get_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("LANG_CODE_INVALID")
    return json.dumps(scope, sort_keys=True), language


def _checked_commands(commands: Any) -> list[JSON]:
    if not isinstance(commands, list) or len(commands) > _MAX_COMMANDS:
        raise bad_request(errors.COMMAND_INVALID)
    checked: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request(errors.COMMAND_INVALID)
        command, description = str(item.get("command", "")), str(item.get("description", ""))
        if not _COMMAND.fullmatch(command) or not 1 <= len(description) <= 256:
            raise bad_request(errors.COMMAND_INVALID)
        checked.append({"command": command, "description": description})
    return checked


async def set_my_commands(call: Call) -> bool:
    """setMyCommands, stored per scope and language_code."""
    commands = _checked_commands(call.params.get_json("commands"))
    call.bot.commands[_commands_key(call)] = commands
    return True


async def get_my_commands(call: Call) -> list[JSON]:
    """``getMyCommands`` for exactly the given scope and language_code (no fallback)."""
    return call.bot.commands.get(_commands_key(call), [])


async def delete_my_commands(call: Call) -> bool:
    """``deleteMyCommands`` for exactly the given scope and language_code."""
    call.bot.commands.pop(_commands_key(call), None)
    return True


def _set_text(kind: str) -> Handler:
    async def handler(call: Call) -> bool:
        text = call.params.get_str(kind) or ""
        if len(text) > _TEXT_LIMITS[kind]:
            raise bad_request(f"{kind.replace('_', ' ')} is too long")
        call.bot.descriptions[kind, call.params.get_str("language_code") or ""] = text
        return True

    return handler


def _get_text(kind: str) -> Handler:
    async def handler(call: Call) -> JSON:
        language = call.params.get_str("language_code") or ""
        text = call.bot.descriptions.get((kind, language))
        if text is None:
            text = call.bot.descriptions.get((kind, ""), "")
        return {kind: text}

    return handler


async def harmless(_call: Call) -> bool:
    """``close`` and ``logOut``: accepted and ignored."""
    return True


METHODS = [
    spec("getMe", "", get_me),
    spec("getUpdates", "offset limit timeout allowed_updates", get_updates),
    spec(
        "setWebhook",
        "url certificate ip_address max_connections allowed_updates drop_pending_updates "
        "secret_token",
        set_webhook,
    ),
    spec("deleteWebhook", "drop_pending_updates", delete_webhook),
    spec("getWebhookInfo", "", get_webhook_info),
    spec("setMyCommands", "commands scope language_code", set_my_commands),
    spec("getMyCommands", "scope language_code", get_my_commands),
    spec("deleteMyCommands", "scope language_code", delete_my_commands),
    spec("setMyDescription", "description language_code", _set_text("description")),
    spec("getMyDescription", "language_code", _get_text("description")),
    spec(
        "setMyShortDescription",
        "short_description language_code",
        _set_text("short_description"),
    ),
    spec("getMyShortDescription", "language_code", _get_text("short_description")),
    spec("close", "", harmless),
    spec("logOut", "", harmless),
]
