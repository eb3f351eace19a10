"""No mobile number, message text or API key in any log record, whatever happens."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from notifier.sms import FailoverSms, LogSms, SmsError
from notifier.sms.base import number_hash
from tests.sms.conftest import (
    MOBILE,
    PHONE_OFF,
    REFUSED,
    REMINDER,
    TEXT_EN,
    TEXT_FA,
    Factory,
    leaks,
)

if TYPE_CHECKING:
    from sandbox.sms import SmsSandbox


async def test_no_number_text_or_key_in_any_log_record(
    make_provider: Factory, sandbox: SmsSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kav, sir = make_provider("kavenegar"), make_provider("smsir")
    bad_key = make_provider("kavenegar", api_key="bad-key-0123456789")
    failover = FailoverSms(kav, sir)

    for provider in (kav, sir, LogSms()):
        receipt = await provider.send(MOBILE, TEXT_FA, idempotency_key="a")
        await provider.send_template(PHONE_OFF, "reminder", REMINDER, idempotency_key="b")
        await provider.status(receipt.message_id)
    sandbox.hang_next("smsir", seconds=1.0, then_process=False)
    sandbox.fail_next("kavenegar", status=502)
    for provider, number in ((sir, MOBILE), (kav, MOBILE), (kav, REFUSED), (bad_key, MOBILE)):
        with pytest.raises(SmsError):
            await provider.send(number, TEXT_EN, idempotency_key="c")
    sandbox.set_credit("kavenegar", 0)
    await failover.send(MOBILE, TEXT_EN, idempotency_key="d")

    lines = [record.getMessage() for record in caplog.records]
    assert any(number_hash(MOBILE) in line and "outcome=queued" in line for line in lines)
    assert any("failover from=kavenegar to=smsir" in line for line in lines)
    assert any("code=timeout" in line for line in lines)
    assert any(line.startswith("kavenegar sms/send -> ") for line in lines)  # the sandbox's
    assert leaks(caplog.records) == []
    sandbox.release_hangs()
