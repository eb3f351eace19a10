"""Polling the SMS gateways for the delivery state of messages they accepted."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from clinic import outbox_store
from notifier.sms.base import (
    DeliveryState,
    SmsPermanentError,
    SmsProvider,
    SmsProviderError,
    SmsTransientError,
)
from notifier.sms.failover import FailoverSms

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from clinic.outbox_store import SmsToCheck
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)
PENDING = tuple(state.value for state in DeliveryState if not state.final)


@runtime_checkable
class BulkStatus(Protocol):
    """A provider that can report many messages in one call (e.g. Kavenegar's sms/status
    takes comma-separated ids). Refs it has no answer for are left out of the result."""

    async def statuses(self, receipt_ids: Sequence[str]) -> Mapping[str, DeliveryState]:
        """The delivery states of the messages ``receipt_ids`` that the gateway answers for."""
        ...


def leaves(provider: SmsProvider) -> dict[str, SmsProvider]:
    """The gateways behind ``provider`` by name: a failover's refs name the one that sent."""
    if isinstance(provider, FailoverSms):
        return {**leaves(provider.secondary), **leaves(provider.primary)}
    return {provider.name: provider}


async def poll_delivery_states(
    uow_factory: Callable[[], UnitOfWork],
    provider: SmsProvider,
    *,
    now: datetime,
    batch: int = 100,
    min_age: timedelta = timedelta(minutes=1),
    recheck_every: timedelta = timedelta(minutes=5),
    give_up_after: timedelta = timedelta(hours=48),
    concurrency: int = 5,
) -> int:
    """Ask the gateway(s) behind ``provider`` about sent SMS rows whose state is not final;
    record each answer and the time asked. Returns the number of rows updated.

    Only rows whose ``provider_ref`` names one of ``provider``'s gateways are asked about, so
    messages of a gateway no longer configured are left alone. A transient or provider-level
    error (gateway down, key refused) leaves the row for the next poll; a permanent answer
    about the message itself records ``unknown``, and so does a row still not final after
    ``give_up_after``. Never raises for a gateway error.
    """
    gateways = leaves(provider)
    due = await _due(uow_factory, gateways, now, batch, min_age, recheck_every)
    if not due:
        return 0
    answers: dict[str, DeliveryState] = {}
    for name, gateway in gateways.items():
        refs = [d.ref for d in due if d.ref.startswith(f"{name}:")]
        if refs:
            answers.update(await _ask(gateway, refs, concurrency))
    return await _record(uow_factory, due, answers, now, now - give_up_after)


async def _due(
    uow_factory: Callable[[], UnitOfWork],
    gateways: Mapping[str, SmsProvider],
    now: datetime,
    batch: int,
    min_age: timedelta,
    recheck_every: timedelta,
) -> list[SmsToCheck]:
    async with uow_factory() as uow:
        return await outbox_store.sms_to_check(
            uow,
            list(gateways),
            PENDING,
            now=now,
            batch=batch,
            min_age=min_age,
            recheck_every=recheck_every,
        )


async def _ask(
    gateway: SmsProvider, refs: list[str], concurrency: int
) -> dict[str, DeliveryState]:
    """The answers the gateway gave; refs missing from the result are left for next time."""
    if isinstance(gateway, BulkStatus):
        try:
            return dict(await gateway.statuses(refs))
        except (SmsTransientError, SmsProviderError) as exc:
            _log_error(gateway, len(refs), exc)
            return {}
        except SmsPermanentError:  # one bad id spoils a bulk call: ask one by one
            pass
    gate = asyncio.Semaphore(concurrency)

    async def one(ref: str) -> tuple[str, DeliveryState | None]:
        async with gate:
            try:
                return ref, await gateway.status(ref)
            except (SmsTransientError, SmsProviderError) as exc:
                _log_error(gateway, 1, exc)
                return ref, None
            except SmsPermanentError:  # the gateway will never know this message
                return ref, DeliveryState.UNKNOWN

    answers = await asyncio.gather(*(one(ref) for ref in refs))
    return {ref: state for ref, state in answers if state is not None}


def _log_error(gateway: SmsProvider, count: int, exc: Exception) -> None:
    code = getattr(exc, "code", "")
    log.info(
        "sms status provider=%s rows=%d outcome=%s code=%s: left for the next poll",
        gateway.name,
        count,
        type(exc).__name__,
        code,
    )


async def _record(
    uow_factory: Callable[[], UnitOfWork],
    due: list[SmsToCheck],
    answers: Mapping[str, DeliveryState],
    now: datetime,
    give_up_before: datetime,
) -> int:
    """Write the answers (and ``unknown`` for rows past their time) in one commit."""
    states: dict[int, str] = {}
    for item in due:
        state = answers.get(item.ref)
        if (state is None or not state.final) and item.sent_at < give_up_before:
            state = DeliveryState.UNKNOWN
        if state is not None:
            states[item.id] = state.value
    if not states:
        return 0
    async with uow_factory() as uow:
        written = await outbox_store.record_sms_states(uow, states, PENDING, now)
    for row_id, kind, before, after in written:
        if DeliveryState(after).final and before != after:
            log.info("outbox %s %s: sms %s", row_id, kind, after)
    return len(written)
