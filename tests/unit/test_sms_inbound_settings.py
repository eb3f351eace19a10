"""RADYAR_SMS_INBOUND*: how replies reach us, checked when the settings are read."""

from __future__ import annotations

import pytest

from radyar.settings import SettingsError
from radyar.settings.sms_inbound import SmsInboundSettings, sms_inbound_settings

SECRET = "a-long-enough-secret-123"


def test_off_by_default_and_then_no_question_is_asked() -> None:
    settings = sms_inbound_settings({})
    assert (settings.mode, settings.poll_seconds) == (SmsInboundSettings.mode, 30)
    assert (settings.enabled, settings.policy_hours) == (False, 0)


def test_polling_reads_the_sender_line_unless_told_another() -> None:
    env = {"RADYAR_SMS_INBOUND": "poll", "RADYAR_SMS_PROVIDER": "kavenegar",
           "RADYAR_SMS_SENDER": "10004346", "RADYAR_SMS_INBOUND_POLL_SECONDS": "15"}  # fmt: skip
    settings = sms_inbound_settings(env)
    assert (settings.mode, settings.line, settings.poll_seconds) == ("poll", "10004346", 15)
    assert settings.policy_hours == 72
    other = sms_inbound_settings(
        env | {"RADYAR_SMS_INBOUND_LINE": "2000500", "RADYAR_SMS_REPLY_HOURS": "24"}
    )
    assert (other.line, other.policy_hours) == ("2000500", 24)


def test_the_callback_secret_is_masked_and_the_allow_list_read() -> None:
    env = {"RADYAR_SMS_INBOUND": "callback", "RADYAR_SMS_PROVIDER": "kavenegar",
           "RADYAR_SMS_INBOUND_SECRET": SECRET,
           "RADYAR_SMS_INBOUND_ALLOW": "185.8.172.0/24"}  # fmt: skip
    settings = sms_inbound_settings(env)
    assert settings.secret.reveal() == SECRET
    assert SECRET not in repr(settings)
    assert settings.allow.allows("185.8.172.9") and not settings.allow.allows("10.0.0.1")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"RADYAR_SMS_INBOUND": "webhook"}, "RADYAR_SMS_INBOUND must be"),
        ({"RADYAR_SMS_INBOUND": "poll"}, "kavenegar or smsir"),
        ({"RADYAR_SMS_INBOUND": "poll", "RADYAR_SMS_PROVIDER": "kavenegar"}, "INBOUND_LINE"),
        ({"RADYAR_SMS_INBOUND": "callback", "RADYAR_SMS_PROVIDER": "smsir",
          "RADYAR_SMS_INBOUND_SECRET": SECRET}, "Kavenegar's forward-to-URL"),
        ({"RADYAR_SMS_INBOUND": "callback", "RADYAR_SMS_PROVIDER": "kavenegar",
          "RADYAR_SMS_INBOUND_SECRET": "short"}, "at least 16"),
        ({"RADYAR_SMS_INBOUND": "poll", "RADYAR_SMS_PROVIDER": "smsir",
          "RADYAR_SMS_INBOUND_POLL_SECONDS": "1"}, "between 5 and 3600"),
        ({"RADYAR_SMS_INBOUND_ALLOW": "not-an-address"}, "RADYAR_SMS_INBOUND_ALLOW"),
    ],
)  # fmt: skip
def test_settings_that_cannot_work_are_refused(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        sms_inbound_settings(env)
