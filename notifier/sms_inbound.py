"""Inbound SMS into the clinic: each message handled in a unit of work of its own, polled from
the gateway (``SmsInboundPoller``) or forwarded by it (``notifier.sms_inbound_web``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.sms_replies import Outcome, handle_inbound
from notifier.sms.base import SmsError
from notifier.sms.inbound import poll_inbound

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from clinic.sms_replies import IncomingSms
    from clinic.uow import UnitOfWork
    from notifier.sms.base import SmsProvider

log = logging.getLogger(__name__)


async def take_in(uow_factory: Callable[[], UnitOfWork], message: IncomingSms) -> Outcome:
    """Handle one inbound SMS and commit; logs the gateway, its message id and the outcome
    (never the number or the text)."""
    async with uow_factory() as uow:
        outcome = await handle_inbound(uow, message)
        await uow.commit()
    log.info(
        "sms inbound provider=%s id=%s outcome=%s",
        message.provider,
        message.message_id[:64],
        outcome.value,
    )
    return outcome


async def take_all(
    uow_factory: Callable[[], UnitOfWork], messages: Iterable[IncomingSms]
) -> list[Outcome]:
    """Each message in turn (one failing does not stop the others: the gateway's next poll
    or retry brings it again, and the unique key stops a repeat)."""
    outcomes = []
    for message in messages:
        try:
            outcomes.append(await take_in(uow_factory, message))
        except Exception as exc:  # a database hiccup on one message: the rest still go in
            # Its type only: a database error's text quotes the statement's values.
            log.error(
                "sms inbound provider=%s id=%s: handling failed (%s)",
                message.provider,
                message.message_id[:64],
                type(exc).__name__,
            )
    return outcomes


@dataclass
class SmsInboundPoller:
    """Asks the gateway for what phones sent our line every ``every`` seconds."""

    uow: Callable[[], UnitOfWork]
    provider: SmsProvider
    line: str = ""
    every: float = 30.0

    async def poll_once(self) -> list[Outcome]:
        """One poll: fetch, then hand each message to the clinic. Raises SmsError."""
        messages = await poll_inbound(self.provider, self.line)
        return await take_all(self.uow, messages)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; a gateway error is logged (its code only) and waited out."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except SmsError as exc:
                log.warning("sms inbound poll failed: %s %s", type(exc).__name__, exc.code)
            except Exception as exc:  # the poller must outlive any one poll
                log.error("sms inbound poll crashed (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
