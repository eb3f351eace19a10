"""The development log provider: sends nothing, logs only a hash of the number and a length."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from notifier.sms import DeliveryState, LogSms, build_provider
from notifier.sms.base import number_hash
from tests.sms.conftest import MOBILE, REMINDER, TEXT_FA

if TYPE_CHECKING:
    import aiohttp
    import pytest


async def test_log_provider_returns_a_delivered_receipt_and_logs_no_personal_data(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    provider = build_provider("log", session)
    caplog.set_level(logging.INFO, logger="notifier.sms")

    receipt = await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-1")

    assert isinstance(provider, LogSms)
    assert (receipt.provider, receipt.state) == ("log", DeliveryState.DELIVERED)
    [record] = caplog.records
    line = record.getMessage()
    assert number_hash(MOBILE) in line
    assert f"length={len(TEXT_FA)}" in line
    assert MOBILE not in line
    assert TEXT_FA not in line


async def test_log_provider_gives_one_receipt_per_key() -> None:
    provider = LogSms()
    first = await provider.send(MOBILE, TEXT_FA, idempotency_key="a")
    again = await provider.send(MOBILE, TEXT_FA, idempotency_key="a")
    other = await provider.send(MOBILE, TEXT_FA, idempotency_key="b")

    assert first == again
    assert other.message_id != first.message_id
    assert await provider.status(first.ref) is DeliveryState.DELIVERED
    assert await provider.status("log-999") is DeliveryState.UNKNOWN


async def test_log_provider_templates_log_no_parameter_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="notifier.sms")
    await LogSms().send_template(MOBILE, "reminder", REMINDER, idempotency_key="t")

    line = caplog.records[0].getMessage()
    assert all(value not in line for value in REMINDER.values())
