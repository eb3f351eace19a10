"""Each provider against the SMS sandbox over real HTTP: sends, templates, errors, statuses."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest

from notifier.sms import (
    DeliveryState,
    SmsPermanentError,
    SmsProvider,
    SmsProviderError,
    SmsRecipientError,
    SmsTransientError,
    build_provider,
)
from tests.sms.conftest import (
    LINES,
    MOBILE,
    PHONE_OFF,
    REFUSED,
    REMINDER,
    RENDERED,
    TEXT_EN,
    TEXT_FA,
    Case,
    Factory,
)

if TYPE_CHECKING:
    import aiohttp

    from sandbox.sms import SmsSandbox


@pytest.mark.parametrize("text", [TEXT_FA, TEXT_EN], ids=["persian", "latin"])
async def test_a_send_reaches_the_numbers_inbox(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox, text: str
) -> None:
    receipt = await provider.send(MOBILE, text, idempotency_key="outbox-1")

    assert receipt.provider == case.name
    assert receipt.state is DeliveryState.QUEUED
    [message] = sandbox.inbox(MOBILE)
    assert (message.text, message.gateway, message.sender) == (text, case.name, LINES[case.name])
    assert str(message.id) == receipt.message_id
    assert receipt.ref == f"{case.name}:{message.id}"


async def test_a_template_send_is_rendered_in_the_inbox(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    receipt = await provider.send_template(MOBILE, "reminder", REMINDER, idempotency_key="t-1")

    [message] = sandbox.inbox(MOBILE)
    assert message.text == RENDERED
    assert message.template in ("radyar-reminder", "100200")
    assert str(message.id) == receipt.message_id


async def test_an_invalid_receptor_is_a_recipient_error(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    for number in (REFUSED, "0912123"):
        with pytest.raises(SmsRecipientError) as caught:
            await provider.send(number, TEXT_FA, idempotency_key=f"bad-{number}")
        assert caught.value.code == case.invalid_receptor
    assert sandbox.messages() == []


async def test_exhausted_credit_is_a_provider_error(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    sandbox.set_credit(case.name, 0)

    with pytest.raises(SmsProviderError) as caught:
        await provider.send(MOBILE, TEXT_FA, idempotency_key="k")

    assert caught.value.code == case.no_credit
    assert caught.value.provider == case.name
    assert sandbox.inbox(MOBILE) == []


async def test_a_wrong_api_key_is_a_provider_error(
    case: Case, make_provider: Factory, sandbox: SmsSandbox
) -> None:
    provider = make_provider(case.name, api_key="bad-key-0123456789")

    with pytest.raises(SmsProviderError) as caught:
        await provider.send(MOBILE, TEXT_FA, idempotency_key="k")

    assert caught.value.code == case.bad_key
    assert "bad-key" not in str(caught.value)


async def test_an_unknown_template_is_a_provider_error(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    with pytest.raises(SmsProviderError) as caught:
        await provider.send_template(MOBILE, "404404", {"token": "x"}, idempotency_key="k")
    assert caught.value.code == case.no_template


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_code"),
    [
        (500, None, "gateway"),
        (502, None, 502),
        (503, 2.0, 503),
        (429, 7.0, "rate"),
        (429, None, "rate"),
    ],
    ids=["500-json", "502-html", "503-html", "429-retry-after", "429-bare"],
)
async def test_server_errors_and_rate_limits_are_transient(
    case: Case,
    provider: SmsProvider,
    sandbox: SmsSandbox,
    status: int,
    retry_after: float | None,
    expected_code: int | str,
) -> None:
    sandbox.fail_next(case.name, status=status, retry_after=retry_after)

    with pytest.raises(SmsTransientError) as caught:
        await provider.send(MOBILE, TEXT_FA, idempotency_key="k")

    codes = {"gateway": {"kavenegar": 500, "smsir": 0}, "rate": {"kavenegar": 429, "smsir": 20}}
    wanted = codes[expected_code][case.name] if isinstance(expected_code, str) else expected_code
    assert caught.value.code == wanted
    assert caught.value.retry_after == retry_after
    assert sandbox.inbox(MOBILE) == []
    # the fault was used up: the next send goes through
    await provider.send(MOBILE, TEXT_FA, idempotency_key="k")
    assert len(sandbox.inbox(MOBILE)) == 1


async def test_kavenegar_409_is_transient(make_provider: Factory, sandbox: SmsSandbox) -> None:
    sandbox.fail_next("kavenegar", status=409)
    with pytest.raises(SmsTransientError) as caught:
        await make_provider("kavenegar").send(MOBILE, TEXT_FA, idempotency_key="k")
    assert caught.value.code == 409


async def test_a_hung_gateway_times_out_as_transient_within_the_client_timeout(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    sandbox.hang_next(case.name, seconds=2.0, then_process=False)
    started = time.monotonic()

    with pytest.raises(SmsTransientError) as caught:
        await provider.send(MOBILE, TEXT_FA, idempotency_key="k")

    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.5  # 0.5 s client timeout, not the 2 s hang
    sandbox.release_hangs()


async def test_a_closed_port_is_transient(case: Case, session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = build_provider(
        case.name, session, api_key="k" * 16, base_url=f"http://127.0.0.1:{port}", timeout=0.5
    )
    with pytest.raises(SmsTransientError) as caught:
        await provider.send(MOBILE, TEXT_FA, idempotency_key="k")
    assert caught.value.code == "network"


async def test_status_goes_from_queued_to_delivered(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    receipt = await provider.send(MOBILE, TEXT_FA, idempotency_key="k")
    seen = [await provider.status(receipt.message_id)]
    for _ in range(3):
        sandbox.advance()
        seen.append(await provider.status(receipt.ref))

    assert seen == ["queued", "sent", "delivered", "delivered"]
    assert sandbox.inbox(MOBILE)[0].status == "delivered"


async def test_a_phone_that_is_off_ends_undelivered(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    receipt = await provider.send(PHONE_OFF, TEXT_FA, idempotency_key="k")
    sandbox.advance(2)

    state = await provider.status(receipt.message_id)

    assert state is DeliveryState.UNDELIVERED
    assert state.final


async def test_an_unknown_message_id_has_an_unknown_status(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    assert await provider.status("123") is DeliveryState.UNKNOWN


async def test_a_text_too_long_for_the_provider_is_refused_before_sending(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    with pytest.raises(SmsPermanentError) as caught:
        await provider.send(MOBILE, "س" * 67 * 14, idempotency_key="k")
    assert caught.value.code == "too-long"
    assert sandbox.requests() == []


async def test_kavenegar_token_rules_are_checked_before_sending(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    provider = make_provider("kavenegar")
    with pytest.raises(SmsPermanentError) as caught:
        await provider.send_template(
            MOBILE, "reminder", {"date": "۸ آذر", "time": "۰۸:۳۰"}, idempotency_key="k"
        )
    assert caught.value.code == "token"
    assert sandbox.requests() == []
