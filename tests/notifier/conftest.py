"""The worker against both sandboxes: the Bot API (chat) and the SMS gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from telegram import Bot

from clinic.models import Platform
from clinic.policy import Department
from notifier.channels import ChatChannel, Pacer, SmsChannel
from notifier.delivery import Channels
from notifier.sms import build_provider
from notifier.worker import Worker
from sandbox.botapi import BotApiSandbox, RateLimits
from sandbox.sms import SmsSandbox
from tests.conftest import ClinicEnv

TOKEN = "654321:NOTIFIER-TEST"
SMS_KEY = "kv-notifier-test-key-01"


@dataclass
class World:
    """The clinic, the two sandboxes and a worker wired to them."""

    env: ClinicEnv
    chat: BotApiSandbox
    sms: SmsSandbox
    worker: Worker

    async def drain(self, rounds: int = 5) -> None:
        """Run the worker until nothing is due (bounded)."""
        for _ in range(rounds):
            if await self.worker.run_once() == 0:
                return


@pytest.fixture
async def world(env: ClinicEnv) -> AsyncIterator[World]:
    """Everything on loopback; chat paced but not slowed (no sandbox limits)."""
    async with (
        BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as chat,
        SmsSandbox(kavenegar_keys=[SMS_KEY]) as sms,
        aiohttp.ClientSession() as session,
    ):
        bot = Bot(TOKEN, base_url=chat.base_url, base_file_url=chat.base_file_url)
        async with bot:
            provider = build_provider(
                "kavenegar",
                session,
                api_key=SMS_KEY,
                base_url=sms.url,
                sender="10004346",
                timeout=0.5,
            )
            channels = Channels(
                chat={
                    Platform.TELEGRAM: ChatChannel(
                        "telegram", bot, Pacer(overall=1000, per_chat=0)
                    )
                },
                sms=SmsChannel(provider),
            )
            yield World(env, chat, sms, Worker(env.uow, channels, Department(), idle_seconds=0.01))
