"""What the redaction filter masks in a log line (clinic.log_redaction), and that the hashes
standing for mobiles are keyed: not found by hashing every mobile."""

from __future__ import annotations

import hashlib
import io
import logging

import pytest

from clinic import log_redaction
from clinic.log_redaction import keyed, redact


@pytest.mark.parametrize(
    ("line", "gone"),
    [
        ("patient 0012345679 registered", "0012345679"),
        ("code ۰۰۱۲۳۴۵۶۷۹ typed", "۰۰۱۲۳۴۵۶۷۹"),
        ("sms to 09121234567", "09121234567"),
        ("sms to +989121234567", "989121234567"),
        ("contact 00989121234567", "989121234567"),
        (
            "GET /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5",
        ),
        ('update {"message": {"text": "my knee hurts", "from": {"first_name": "Sara"}}}', "knee"),
        ("update {'text': 'hello there', 'username': 'sara_k'}", "sara_k"),
        ("name علی رضایی in the chat", "رضایی"),
        ("phone_number=989121234567&text=salam", "salam"),
    ],
)
def test_a_personal_or_secret_value_is_masked(line: str, gone: str) -> None:
    assert gone not in redact(line)


def test_ordinary_lines_keep_what_operators_need() -> None:
    line = "outbox 42 booking_confirmed: sent (telegram) in 12 ms; MLLP 127.0.0.1:2575"
    assert redact(line) == line


def test_every_level_and_exception_text_goes_through_the_filter() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.redaction")
    root = logging.Logger("isolated-root")
    root.addHandler(handler)
    log_redaction.install(b"k" * 32, root)
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        raise ValueError("national code 0012345679 is not valid for علی")
    except ValueError:
        logger.exception("registering %s failed", "09121234567")
    logger.debug("update %r", {"text": "درد زانو"})
    logger.removeHandler(handler)
    out = stream.getvalue()
    for value in ("0012345679", "09121234567", "علی", "درد زانو", "زانو"):
        assert value not in out
    assert "ValueError" in out and "registering ‹number› failed" in out


def test_the_hash_of_a_mobile_is_keyed() -> None:
    mobile = "09121234567"
    log_redaction.install(b"a-log-key-of-the-hospital-0001")
    first = keyed(mobile)
    assert first != hashlib.sha256(mobile.encode()).hexdigest()[:12]  # not the plain hash
    log_redaction.install(b"another-key-of-another-place-02")
    assert keyed(mobile) != first


def test_the_settings_secrets_are_masked_whatever_their_form() -> None:
    from radyar.settings import Settings

    settings = Settings.from_env(
        {
            "RADYAR_TELEGRAM_TOKEN": "999:WRONGSECRETTOKEN",
            "RADYAR_DATABASE_URL": "postgresql+asyncpg://radyar:s3cret-pass@db:5432/radyar",
            "RADYAR_HIS_WEBHOOK_SECRET": "his-secret-of-at-least-16",
        }
    )
    found = settings.secrets()
    assert {"999:WRONGSECRETTOKEN", "s3cret-pass", "his-secret-of-at-least-16"} <= set(found)
    logger = logging.getLogger("test.secrets")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        log_redaction.install(root=logger, secrets=found)
        logger.warning("The token `%s` was rejected; db %s", "999:WRONGSECRETTOKEN", "s3cret-pass")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "WRONGSECRETTOKEN" not in line and "s3cret-pass" not in line
    assert "was rejected" in line
