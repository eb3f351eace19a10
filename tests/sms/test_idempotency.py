"""Repeated sends with one idempotency key: what each gateway does with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from notifier.sms import SmsTransientError
from notifier.sms.kavenegar import localid
from tests.sms.conftest import MOBILE, OTHER, REMINDER, TEXT_FA, Factory

if TYPE_CHECKING:
    from sandbox.sms import SmsSandbox


async def test_kavenegar_sends_one_message_for_one_key(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    provider = make_provider("kavenegar")

    first = await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-41")
    again = await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-41")

    assert again == first
    assert len(sandbox.inbox(MOBILE)) == 1
    assert sandbox.count("kavenegar", "sms/send") == 2
    assert sandbox.count("kavenegar", "accepted") == 1
    assert sandbox.count("kavenegar", "deduplicated") == 1
    assert sandbox.credit("kavenegar") == 1_000_000 - sandbox.inbox(MOBILE)[0].cost


async def test_kavenegar_sends_again_for_another_key(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    provider = make_provider("kavenegar")
    await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-41")
    await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-42")
    await provider.send(OTHER, TEXT_FA, idempotency_key="radyar-43")

    assert len(sandbox.inbox(MOBILE)) == 2
    assert len(sandbox.inbox(OTHER)) == 1


async def test_kavenegar_retry_after_a_timeout_does_not_send_twice(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    """The worst case: the gateway sends, but the answer is lost to the client's timeout."""
    provider = make_provider("kavenegar")
    sandbox.hang_next("kavenegar", seconds=2.0, then_process=True)
    with pytest.raises(SmsTransientError):
        await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-7")

    retried = await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-7")
    sandbox.release_hangs()  # the hung request now goes through, late
    await sandbox.wait_idle()

    [message] = sandbox.inbox(MOBILE)
    assert sandbox.count("kavenegar", "deduplicated") == 1
    assert str(message.id) == retried.message_id
    assert message.localid == localid("radyar-7")


def test_localid_is_numeric_and_stable() -> None:
    assert localid("12345") == "12345"
    assert localid("radyar-41") == localid("radyar-41")
    assert localid("radyar-41").isdigit()
    assert int(localid("radyar-41")) < 2**63
    assert localid("radyar-41") != localid("radyar-42")


async def test_smsir_has_no_client_reference_so_a_repeat_sends_twice(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    """SMS.ir v1 takes no idempotency key: the worker's at-least-once bound is all there is."""
    provider = make_provider("smsir")
    assert not provider.idempotent

    await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-41")
    await provider.send(MOBILE, TEXT_FA, idempotency_key="radyar-41")

    assert len(sandbox.inbox(MOBILE)) == 2


async def test_kavenegar_templates_take_no_localid_so_a_repeat_sends_twice(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    provider = make_provider("kavenegar")
    await provider.send_template(MOBILE, "reminder", REMINDER, idempotency_key="radyar-9")
    await provider.send_template(MOBILE, "reminder", REMINDER, idempotency_key="radyar-9")

    assert len(sandbox.inbox(MOBILE)) == 2
    assert "localid" not in sandbox.requests("kavenegar")[0].params
