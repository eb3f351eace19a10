"""Reading replies from the gateways' receive APIs with the real providers, over the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from notifier.sms import FailoverSms, LogSms, SmsProviderError
from notifier.sms.inbound import poll_inbound
from tests.sms.conftest import KAVENEGAR_LINE, MOBILE, OTHER, SMSIR_LINE

if TYPE_CHECKING:
    from sandbox.sms import SmsSandbox
    from tests.sms.conftest import Factory


async def test_kavenegar_hands_each_unread_reply_over_once(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    kavenegar = make_provider("kavenegar")
    sandbox.phone_sends("+989121234567", "۱")
    sandbox.phone_sends(OTHER, "لغو")

    first = await poll_inbound(kavenegar)

    assert [(m.provider, m.sender, m.text, m.line) for m in first] == [
        ("kavenegar", "+989121234567", "۱", KAVENEGAR_LINE),
        ("kavenegar", OTHER, "لغو", KAVENEGAR_LINE),
    ]
    assert len({m.message_id for m in first}) == 2
    assert all(m.sent_at is not None for m in first)
    assert await poll_inbound(kavenegar) == []  # read now
    assert all(m.read for m in sandbox.inbound("kavenegar"))


async def test_smsir_answers_its_latest_every_time_with_the_same_ids(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    smsir = make_provider("smsir")
    sandbox.phone_sends(MOBILE, "بله", gateway="smsir")
    sandbox.phone_sends(MOBILE, "بله", gateway="smsir")  # the same text again, later

    first, again = await poll_inbound(smsir), await poll_inbound(smsir)

    assert [m.text for m in first] == ["بله", "بله"]
    assert {m.line for m in first} == {SMSIR_LINE}
    assert [m.message_id for m in first] == [m.message_id for m in again]
    assert first[0].sender.endswith("9121234567")  # a number, its leading 0 lost


async def test_behind_a_failover_both_gateways_are_read(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    both = FailoverSms(make_provider("kavenegar"), make_provider("smsir"))
    sandbox.phone_sends(MOBILE, "1")
    sandbox.phone_sends(OTHER, "2", gateway="smsir")

    found = await poll_inbound(both)

    assert sorted((m.provider, m.text) for m in found) == [("kavenegar", "1"), ("smsir", "2")]
    assert await poll_inbound(LogSms()) == []


async def test_a_line_that_is_not_ours_is_refused(
    make_provider: Factory, sandbox: SmsSandbox
) -> None:
    with pytest.raises(SmsProviderError) as refused:
        await poll_inbound(make_provider("kavenegar"), "10009999")
    assert refused.value.code == 412
