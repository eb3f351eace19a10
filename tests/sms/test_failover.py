"""FailoverSms: Kavenegar first, SMS.ir when Kavenegar cannot send for us."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from notifier.sms import (
    DeliveryState,
    FailoverSms,
    LogSms,
    SmsProviderError,
    SmsRecipientError,
    SmsTransientError,
)
from tests.sms.conftest import MOBILE, REFUSED, REMINDER, RENDERED, TEXT_FA, Factory

if TYPE_CHECKING:
    from sandbox.sms import SmsSandbox


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def failover(make_provider: Factory, clock: Clock) -> FailoverSms:
    return FailoverSms(
        make_provider("kavenegar"), make_provider("smsir"), cooldown=60.0, clock=clock
    )


async def test_exhausted_credit_fails_over_to_smsir(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 0)

    receipt = await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-1")

    assert receipt.provider == "smsir"
    [message] = sandbox.inbox(MOBILE)
    assert (message.gateway, message.text) == ("smsir", TEXT_FA)
    assert sandbox.count("kavenegar", "requests") == 1
    assert failover.primary_down


async def test_while_the_primary_is_down_it_is_not_asked_until_the_cooldown_ends(
    failover: FailoverSms, sandbox: SmsSandbox, clock: Clock
) -> None:
    sandbox.set_credit("kavenegar", 0)
    await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-1")
    await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-2")
    assert sandbox.count("kavenegar", "requests") == 1

    sandbox.set_credit("kavenegar", 10_000)
    clock.now += 61
    receipt = await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-3")

    assert receipt.provider == "kavenegar"
    assert [m.gateway for m in sandbox.inbox(MOBILE)] == ["smsir", "smsir", "kavenegar"]


async def test_a_template_fails_over_with_each_gateways_own_template(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 0)

    receipt = await failover.send_template(MOBILE, "reminder", REMINDER, idempotency_key="t")

    assert receipt.provider == "smsir"
    assert [m.text for m in sandbox.inbox(MOBILE)] == [RENDERED]


async def test_an_invalid_receptor_is_not_tried_elsewhere(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    with pytest.raises(SmsRecipientError):
        await failover.send(REFUSED, TEXT_FA, idempotency_key="radyar-1")

    assert sandbox.count("smsir", "requests") == 0
    assert not failover.primary_down


async def test_repeated_transient_errors_fail_over(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    sandbox.fail_next("kavenegar", count=10, status=502)

    for key in ("radyar-1", "radyar-1"):
        with pytest.raises(SmsTransientError):
            await failover.send(MOBILE, TEXT_FA, idempotency_key=key)
    receipt = await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-1")

    assert receipt.provider == "smsir"
    assert sandbox.count("kavenegar", "requests") == 3
    assert len(sandbox.inbox(MOBILE)) == 1


async def test_a_success_resets_the_transient_count(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    for _ in range(3):
        sandbox.fail_next("kavenegar", count=2, status=500)
        for _ in range(2):
            with pytest.raises(SmsTransientError):
                await failover.send(MOBILE, TEXT_FA, idempotency_key="k")
        assert (await failover.send(MOBILE, TEXT_FA, idempotency_key="k")).provider == "kavenegar"
    assert sandbox.count("smsir", "requests") == 0


async def test_the_secondary_gets_the_same_idempotency_key(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 0)
    failover = FailoverSms(make_provider("kavenegar"), LogSms(), cooldown=0.0)

    first = await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-5")
    again = await failover.send(MOBILE, TEXT_FA, idempotency_key="radyar-5")

    assert first == again
    assert first.provider == "log"


async def test_both_down_raises_the_secondarys_error(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 0)
    sandbox.set_credit("smsir", 0)
    with pytest.raises(SmsProviderError) as caught:
        await failover.send(MOBILE, TEXT_FA, idempotency_key="k")
    assert caught.value.provider == "smsir"


async def test_status_asks_the_provider_that_sent(
    failover: FailoverSms, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit("kavenegar", 0)
    receipt = await failover.send(MOBILE, TEXT_FA, idempotency_key="k")
    sandbox.advance(2)

    assert await failover.status(receipt.ref) is DeliveryState.DELIVERED
    with pytest.raises(ValueError, match="ref"):
        await failover.status(receipt.message_id)
