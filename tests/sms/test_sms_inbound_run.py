"""radyar run's inbound part: the poller reads replies from the gateway until stopped, and a
gateway error does not stop it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from clinic.outbox import Notice
from radyar.app import App
from radyar.settings import Secret, Settings, SmsSettings
from radyar.settings.sms_inbound import SmsInboundSettings
from radyar.sms_inbound_run import poll_sms_inbound
from tests.sms.conftest import KAVENEGAR_KEY, KAVENEGAR_LINE
from tests.sms.replies_world import POLICY, said
from tests.sms.test_sms_replies import MOBILE, _reminded

if TYPE_CHECKING:
    from tests.sms.replies_world import Replies


def _app(replies: Replies) -> App:
    settings = Settings("", Path(), "fa", "INFO", POLICY)
    env = replies.env
    return App(settings, env.engine, env.sessionmaker, env.clock)


async def test_the_poller_reads_replies_until_stopped_through_a_gateway_error(
    replies: Replies,
) -> None:
    await _reminded(replies)
    sms = SmsSettings(
        "kavenegar", Secret(KAVENEGAR_KEY), base_url=replies.sms.url, sender=KAVENEGAR_LINE
    )
    inbound = SmsInboundSettings(mode="poll", poll_seconds=1)
    replies.sms.fail_next("kavenegar", 1, status=502)  # the first poll fails
    replies.sms.phone_sends(MOBILE, "۱")
    stop = asyncio.Event()
    polling = asyncio.create_task(poll_sms_inbound(inbound, sms, _app(replies), stop))
    try:
        async with asyncio.timeout(10):
            while not any(said(Notice.SMS_CONFIRMED) in t for t in replies.texts(MOBILE)):
                await asyncio.sleep(0.1)
                await replies.deliver()
    finally:
        stop.set()
        await asyncio.wait_for(polling, 5)
    assert replies.sms.count("kavenegar", "sms/receive") >= 2


async def test_nothing_is_polled_unless_told_to(replies: Replies) -> None:
    stop = asyncio.Event()
    off = SmsInboundSettings()
    await asyncio.wait_for(poll_sms_inbound(off, None, _app(replies), stop), 1)
    assert replies.sms.count("kavenegar", "sms/receive") == 0
