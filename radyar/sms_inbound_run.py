"""Running the inbound SMS poller (RADYAR_SMS_INBOUND=poll): the gateways' receive APIs asked
every RADYAR_SMS_INBOUND_POLL_SECONDS, each reply handed to the clinic once."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import aiohttp

from notifier.sms import FailoverSms, SmsProvider, build_provider
from notifier.sms_inbound import SmsInboundPoller

if TYPE_CHECKING:
    import asyncio

    from radyar.app import App
    from radyar.settings import SmsSettings
    from radyar.settings.sms_inbound import SmsInboundSettings

log = logging.getLogger(__name__)


def _provider(session: aiohttp.ClientSession, sms: SmsSettings) -> SmsProvider:
    return build_provider(
        sms.provider, session, api_key=sms.api_key.reveal(), base_url=sms.base_url,
        sender=sms.sender,
    )  # fmt: skip


async def poll_sms_inbound(
    inbound: SmsInboundSettings,
    sms: SmsSettings | None,
    app: App,
    stop: asyncio.Event,
    failover: SmsSettings | None = None,
) -> None:
    """Poll the SMS gateway (and the failover's, whose line a reply may go to) for replies
    until ``stop``; returns at once unless RADYAR_SMS_INBOUND is ``poll``."""
    if inbound.mode != "poll" or sms is None:
        return
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        provider = _provider(session, sms)
        if failover is not None:
            provider = FailoverSms(provider, _provider(session, failover))
        poller = SmsInboundPoller(
            app.uow, provider, line=inbound.line, every=float(inbound.poll_seconds)
        )
        log.info("reading SMS replies from %s every %ss", sms.provider, inbound.poll_seconds)
        await poller.run(stop)


__all__ = ["poll_sms_inbound"]
