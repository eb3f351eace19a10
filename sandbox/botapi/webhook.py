"""Webhook delivery: POST each pending update as JSON, in order, retrying non-2xx replies."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .world import JSON, BotState, Webhook, World

log = logging.getLogger("sandbox.botapi")


async def _post(session: aiohttp.ClientSession, hook: Webhook, update: JSON, world: World) -> str:
    """Deliver once; an empty string on success, else Telegram's last_error_message."""
    headers = {}
    if hook.secret_token and world.caps.webhook_secret_header:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    try:
        async with session.post(hook.url, json=update, headers=headers) as response:
            await response.read()
            if 200 <= response.status < 300:
                return ""
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"Connection failed: {type(exc).__name__}"


async def _deliver(session: aiohttp.ClientSession, world: World, bot: BotState) -> None:
    hook = bot.webhook
    assert hook is not None
    update = bot.pending[0]
    for attempt in range(1 + max(0, world.webhook_retries)):
        if attempt:
            await asyncio.sleep(world.webhook_retry_delay * attempt)
        error = await _post(session, hook, update, world)
        if not error:
            log.info("webhook delivered update_id=%s bot=%s", update["update_id"], bot.id)
            break
        bot.last_error = (world.now(), error)
    else:
        # Telegram retries for longer; the sandbox gives up so tests see the failure quickly.
        log.info("webhook dropped update_id=%s bot=%s", update["update_id"], bot.id)
    if bot.pending and bot.pending[0] is update:
        bot.pending.pop(0)


async def _deliver_forever(world: World, bot: BotState) -> None:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        while not world.closing:
            if not bot.pending:
                await bot.updates_changed.wait(None)
                continue
            await _deliver(session, world, bot)


def start_delivery(world: World, bot: BotState) -> None:
    """Start the bot's delivery task for its current webhook (the previous one must be stopped)."""
    bot.webhook_task = asyncio.get_running_loop().create_task(
        _deliver_forever(world, bot), name=f"sandbox-webhook-{bot.id}"
    )


async def stop_delivery(bot: BotState) -> None:
    """Cancel and await the bot's delivery task, if any."""
    task, bot.webhook_task = bot.webhook_task, None
    if task is None or task.done():
        return
    task.cancel()
    await asyncio.wait({task})
