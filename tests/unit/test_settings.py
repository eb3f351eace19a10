"""Settings from RADYAR_* variables: defaults, validation, and no secret in repr."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from radyar.settings import Settings, SettingsError


def test_defaults_use_an_embedded_sqlite_file() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///var/radyar.db"
    assert settings.data_dir == Path("var")
    assert settings.policy.horizon_days == 30
    assert settings.policy.patient_cancel_notice_hours == 24
    assert settings.policy.reminder_hours == (24, 2)
    assert settings.language == "fa"


def test_a_postgresql_url_switches_the_engine_and_hides_the_password() -> None:
    settings = Settings.from_env({"RADYAR_DATABASE_URL": "postgresql://radyar:s3cret@db/radyar"})
    assert settings.database_url == "postgresql+asyncpg://radyar:s3cret@db/radyar"
    assert "s3cret" not in repr(settings)
    assert "***" in repr(settings)


def test_policy_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "RADYAR_HORIZON_DAYS": "14",
            "RADYAR_HOLD_MINUTES": "5",
            "RADYAR_CANCEL_NOTICE_HOURS": "48",
            "RADYAR_REMINDER_HOURS": "2, 48,24",
            "RADYAR_CLOSURE_MOVE": "no",
            "RADYAR_DATA_DIR": "/srv/radyar",
        }
    )
    policy = settings.policy
    assert (policy.horizon_days, policy.hold_minutes, policy.patient_cancel_notice_hours) == (
        14,
        5,
        48,
    )
    assert policy.reminder_hours == (48, 24, 2)
    assert policy.closure_move is False
    assert settings.database_url == "sqlite+aiosqlite:////srv/radyar/radyar.db"


def test_the_hoarding_caps_are_read_and_kept_consistent() -> None:
    defaults = Settings.from_env({}).policy
    assert (
        defaults.max_open_referrals_per_exam,
        defaults.max_open_referrals,
        defaults.max_future_bookings_per_exam,
        defaults.max_future_bookings,
        defaults.repeat_review_days,
    ) == (1, 3, 1, 3, 7)
    policy = Settings.from_env(
        {
            "RADYAR_MAX_OPEN_REFERRALS_PER_EXAM": "2",
            "RADYAR_MAX_OPEN_REFERRALS": "5",
            "RADYAR_MAX_FUTURE_BOOKINGS_PER_EXAM": "2",
            "RADYAR_MAX_FUTURE_BOOKINGS": "4",
            "RADYAR_REPEAT_REFERRAL_REVIEW_DAYS": "0",
        }
    ).policy
    assert (policy.max_open_referrals, policy.max_future_bookings) == (5, 4)
    assert (policy.max_open_referrals_per_exam, policy.repeat_review_days) == (2, 0)
    with pytest.raises(SettingsError, match="must not be more than RADYAR_MAX_FUTURE_BOOKINGS"):
        Settings.from_env({"RADYAR_MAX_FUTURE_BOOKINGS_PER_EXAM": "4"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RADYAR_MAX_OPEN_REFERRALS", "0", "between 1 and 50"),
        ("RADYAR_HORIZON_DAYS", "thirty", "whole number"),
        ("RADYAR_HORIZON_DAYS", "0", "between 1 and 365"),
        ("RADYAR_REMINDER_HOURS", "24,x", "commas"),
        ("RADYAR_CLOSURE_MOVE", "maybe", "true or false"),
        ("RADYAR_LANG", "de", "fa or en"),
        ("RADYAR_SMS_QUIET_HOURS", "late", "22:00-07:00"),
        ("RADYAR_GIVE_UP_HOURS", "500", "between 1 and 168"),
        ("RADYAR_HIS_WEBHOOK_SECRET", "short", "at least 16"),
        ("RADYAR_MLLP_PORT", "70000", "between 0 and 65535"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


def test_bot_settings_keep_tokens_secret() -> None:
    settings = Settings.from_env(
        {
            "RADYAR_PLATFORM": "bale",
            "RADYAR_BALE_TOKEN": "123:bale-secret",
            "RADYAR_TELEGRAM_PROXY": "http://user:pw@proxy:3128",
            "RADYAR_WEBHOOK_SECRET": "s3cr3t_value-0123",
            "RADYAR_DEPARTMENT_PHONE": "058-1234-5678",
        }
    )
    assert settings.bot.platform == "bale"
    assert settings.bot.token().reveal() == "123:bale-secret"
    assert settings.department.phone == "058-1234-5678"
    shown = repr(settings)
    for secret in ("bale-secret", "pw@proxy", "s3cr3t_value-0123"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RADYAR_PLATFORM", "whatsapp"),
        ("RADYAR_WEBHOOK_SECRET", "has space"),
        ("RADYAR_LISTEN_PORT", "0"),
    ],
)
def test_bad_bot_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a", "16 to 256 characters long, got 1"),
        ("only_15_chars_x", "16 to 256 characters long, got 15"),
        ("x" * 257, "16 to 256 characters long, got 257"),
        ("has space in the middle", "only A-Z, a-z, 0-9, _ and -"),
        ("رمز-وب‌هوک-ربات-بله", "only A-Z, a-z, 0-9, _ and -"),  # Telegram refuses these
        ("sixteen+chars/ok=", "only A-Z, a-z, 0-9, _ and -"),
    ],
)
def test_the_bot_webhook_secret_must_be_long_and_in_telegrams_characters(
    value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env({"RADYAR_WEBHOOK_SECRET": value})
    assert "RADYAR_WEBHOOK_SECRET" in str(caught.value)
    assert value == "a" or value not in str(caught.value)  # a secret is never echoed


def test_a_long_enough_bot_webhook_secret_and_none_at_all_are_taken() -> None:
    for value in ("A-z_0123456789-x", "s" * 256):
        assert Settings.from_env({"RADYAR_WEBHOOK_SECRET": value}).bot.webhook_secret
    assert not Settings.from_env({}).bot.webhook_secret  # each run makes its own


def test_sms_defaults_to_the_log_provider_and_failover_is_optional() -> None:
    settings = Settings.from_env({})
    assert settings.sms is not None
    assert settings.sms.provider == "log"
    assert settings.sms_failover is None
    configured = Settings.from_env(
        {
            "RADYAR_SMS_PROVIDER": "kavenegar",
            "RADYAR_SMS_API_KEY": "kv-secret-key-123",
            "RADYAR_SMS_FAILOVER_PROVIDER": "smsir",
            "RADYAR_SMS_FAILOVER_API_KEY": "ir-secret-key-456",
        }
    )
    assert configured.sms is not None
    assert configured.sms_failover is not None
    assert (configured.sms.provider, configured.sms_failover.provider) == ("kavenegar", "smsir")
    assert "secret-key" not in repr(configured)
    with pytest.raises(SettingsError, match="RADYAR_SMS_API_KEY"):
        Settings.from_env({"RADYAR_SMS_PROVIDER": "kavenegar"})


def test_worker_and_hospital_settings() -> None:
    defaults = Settings.from_env({})
    assert (defaults.worker.quiet_from, defaults.worker.quiet_until) == (time(22), time(7))
    assert (defaults.hospital.mllp_port, defaults.hospital.orthanc_url) == (2575, None)
    settings = Settings.from_env(
        {
            "RADYAR_SMS_QUIET_HOURS": "۲۱:۳۰-۰۸:۰۰",
            "RADYAR_GIVE_UP_HOURS": "48",
            "RADYAR_ORTHANC_URL": "http://pacs.local:8042/",
            "RADYAR_ORTHANC_PASSWORD": "orthanc-pass-1",
            "RADYAR_HIS_WEBHOOK_SECRET": "his-secret-0123456789",
        }
    )
    assert (settings.worker.quiet_from, settings.worker.quiet_until) == (time(21, 30), time(8))
    assert settings.worker.give_up_hours == 48
    assert settings.hospital.orthanc_url == "http://pacs.local:8042"
    assert "orthanc-pass-1" not in repr(settings)
    assert "his-secret-0123456789" not in repr(settings)
    off = Settings.from_env({"RADYAR_SMS_QUIET_HOURS": "off"})
    assert off.worker.quiet_from == off.worker.quiet_until


def test_link_settings_have_sane_defaults_and_keep_the_key_secret() -> None:
    rules = Settings.from_env({}).policy.link
    assert (rules.account_failures, rules.code_failures, rules.global_failures) == (5, 3, 50)
    assert (rules.window, rules.lockout, rules.code_lifetime) == (
        timedelta(hours=1), timedelta(hours=1), timedelta(hours=24)
    )  # fmt: skip
    settings = Settings.from_env(
        {
            "RADYAR_LINK_CODE_KEY": "link-key-0123456789",
            "RADYAR_LINK_MAX_FAILURES": "3",
            "RADYAR_LINK_LOCKOUT_MINUTES": "120",
            "RADYAR_LINK_GLOBAL_FAILURES": "0",
        }
    )
    rules = settings.policy.link
    assert (rules.account_failures, rules.lockout, rules.global_failures) == (
        3, timedelta(hours=2), 0
    )  # fmt: skip
    assert rules.key == b"link-key-0123456789"
    assert "link-key" not in repr(settings)
    with pytest.raises(SettingsError, match="RADYAR_LINK_CODE_KEY"):
        Settings.from_env({"RADYAR_LINK_CODE_KEY": "short"})
    with pytest.raises(SettingsError, match="RADYAR_LINK_MAX_FAILURES"):
        Settings.from_env({"RADYAR_LINK_MAX_FAILURES": "0"})


def test_the_listener_limits_have_sane_defaults() -> None:
    hospital = Settings.from_env({}).hospital
    mllp, http = hospital.mllp_limits, hospital.http_limits
    assert (mllp.connections.max_connections, mllp.connections.max_per_peer) == (64, 8)
    assert (mllp.connections.idle_seconds, mllp.frame_seconds) == (60, 30)
    assert (mllp.frames_per_second, mllp.max_frame) == (20, 256 * 1024)
    assert mllp.connections.allow.anyone and http.webhook_allow.anyone
    assert (http.connections.max_connections, http.connections.max_per_peer) == (64, 16)
    assert (http.connections.idle_seconds, http.max_in_flight) == (30, 16)
    assert http.requests_per_second == 20


def test_the_listener_limits_are_read() -> None:
    hospital = Settings.from_env(
        {
            "RADYAR_MLLP_ALLOW": "10.0.5.12, 10.0.6.0/24",
            "RADYAR_MLLP_MAX_CONNECTIONS": "16",
            "RADYAR_MLLP_MAX_PER_PEER": "2",
            "RADYAR_MLLP_IDLE_SECONDS": "120",
            "RADYAR_MLLP_FRAME_SECONDS": "10",
            "RADYAR_MLLP_FRAMES_PER_SECOND": "5",
            "RADYAR_MLLP_MAX_FRAME_KB": "2048",
            "RADYAR_HIS_WEBHOOK_ALLOW": "fd00:1::/64",
            "RADYAR_HTTP_MAX_CONNECTIONS": "8",
            "RADYAR_HTTP_MAX_PER_PEER": "4",
            "RADYAR_HTTP_IDLE_SECONDS": "5",
            "RADYAR_HTTP_MAX_IN_FLIGHT": "3",
            "RADYAR_HTTP_REQUESTS_PER_SECOND": "7",
        }
    ).hospital
    mllp, http = hospital.mllp_limits, hospital.http_limits
    assert str(mllp.connections.allow) == "10.0.5.12/32,10.0.6.0/24"
    assert mllp.connections.allow.allows("10.0.6.9") and not mllp.connections.allow.allows("::1")
    assert (mllp.connections.max_connections, mllp.connections.max_per_peer) == (16, 2)
    assert (mllp.connections.idle_seconds, mllp.frame_seconds) == (120, 10)
    assert (mllp.frames_per_second, mllp.max_frame) == (5, 2048 * 1024)
    assert http.webhook_allow.allows("fd00:1::5") and not http.webhook_allow.allows("10.0.5.12")
    assert (http.connections.max_connections, http.connections.max_per_peer) == (8, 4)
    assert (http.connections.idle_seconds, http.max_in_flight) == (5, 3)
    assert http.requests_per_second == 7
    assert "mllp_allow=10.0.5.12/32,10.0.6.0/24" in repr(hospital)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RADYAR_MLLP_ALLOW", "10.0.5.300", "'10.0.5.300' is not an IP address"),
        ("RADYAR_MLLP_ALLOW", "10.0.5.12/24", "has host bits set"),
        ("RADYAR_HIS_WEBHOOK_ALLOW", "his.hospital.local", "'his.hospital.local'"),
        ("RADYAR_HIS_WEBHOOK_ALLOW", " , ", "names no address"),
        ("RADYAR_MLLP_MAX_CONNECTIONS", "0", "between 1 and"),
        ("RADYAR_MLLP_MAX_FRAME_KB", "1", "between 16 and"),
        ("RADYAR_HTTP_REQUESTS_PER_SECOND", "many", "whole number"),
    ],
)
def test_a_bad_listener_limit_names_its_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=name) as caught:
        Settings.from_env({name: value})
    assert says in str(caught.value)


def test_the_readme_documents_every_setting() -> None:
    """Every RADYAR_* name the settings read appears in the README's configuration table."""
    root = Path(__file__).parents[2]
    sources = sorted((root / "radyar" / "settings").glob("*.py"))
    source = "".join(path.read_text(encoding="utf-8") for path in sources)
    readme = (root / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'"(RADYAR_[A-Z_]+)"', source))
    assert len(names) > 20
    prefixes = {"RADYAR_SMS", "RADYAR_SMS_FAILOVER"}  # read as PREFIX_PROVIDER, PREFIX_API_KEY …
    assert all(f"`{p}_PROVIDER`" in readme for p in prefixes)
    assert sorted(n for n in names - prefixes if f"`{n}`" not in readme) == []
