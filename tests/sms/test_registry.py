"""The provider registry, masked keys, and each provider's explicit error map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from notifier.sms import (
    REGISTRY,
    FailoverSms,
    KavenegarSms,
    LogSms,
    SmsIrSms,
    SmsPermanentError,
    SmsProviderError,
    SmsRecipientError,
    SmsTransientError,
    build_provider,
    kavenegar,
    smsir,
)
from notifier.sms.base import SmsError, mask_secret
from tests.sms.conftest import KAVENEGAR_KEY, SMSIR_KEY

if TYPE_CHECKING:
    import aiohttp


def test_the_registry_is_explicit() -> None:
    assert {"kavenegar": KavenegarSms, "smsir": SmsIrSms, "log": LogSms} == REGISTRY
    for cls in REGISTRY.values():
        assert cls.name in REGISTRY
        assert cls.supports_templates
        assert cls.max_parts >= 2


async def test_build_provider_makes_each_registered_provider(
    session: aiohttp.ClientSession,
) -> None:
    for name, cls in REGISTRY.items():
        provider = build_provider(name, session, api_key="x" * 16, sender="10004346")
        assert type(provider) is cls
    default = build_provider("smsir", session, api_key="x" * 16)
    assert isinstance(default, SmsIrSms)
    assert default.base_url == "https://api.sms.ir"


async def test_build_provider_refuses_unknown_names_and_missing_keys(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(ValueError, match="unknown SMS provider"):
        build_provider("ghasedak", session, api_key="x")
    with pytest.raises(ValueError, match="API key"):
        build_provider("kavenegar", session)
    with pytest.raises(TypeError):
        FailoverSms.build(session, api_key="x")


async def test_api_keys_are_masked_in_repr(session: aiohttp.ClientSession) -> None:
    kav = build_provider("kavenegar", session, api_key=KAVENEGAR_KEY)
    sir = build_provider("smsir", session, api_key=SMSIR_KEY)
    shown = repr(FailoverSms(kav, sir))

    assert KAVENEGAR_KEY not in shown
    assert SMSIR_KEY not in shown
    assert "kv****0c" in shown
    assert "ir****0f" in shown


def test_short_secrets_are_fully_hidden() -> None:
    assert mask_secret("abc123") == "****"
    assert mask_secret("") == "****"


@pytest.mark.parametrize(
    ("errors", "code", "kind"),
    [
        (kavenegar.ERRORS, 401, SmsProviderError),
        (kavenegar.ERRORS, 409, SmsTransientError),
        (kavenegar.ERRORS, 411, SmsRecipientError),
        (kavenegar.ERRORS, 413, SmsPermanentError),
        (kavenegar.ERRORS, 418, SmsProviderError),
        (kavenegar.ERRORS, 424, SmsProviderError),
        (kavenegar.ERRORS, 429, SmsTransientError),
        (smsir.ERRORS, 0, SmsTransientError),
        (smsir.ERRORS, 10, SmsProviderError),
        (smsir.ERRORS, 20, SmsTransientError),
        (smsir.ERRORS, 102, SmsProviderError),
        (smsir.ERRORS, 104, SmsRecipientError),
        (smsir.ERRORS, 113, SmsProviderError),
        (smsir.ERRORS, 115, SmsRecipientError),
    ],
)
def test_error_maps(errors: dict[int, type[SmsError]], code: int, kind: type[SmsError]) -> None:
    assert errors[code] is kind


def test_recipient_and_provider_errors_are_permanent() -> None:
    assert issubclass(SmsRecipientError, SmsPermanentError)
    assert issubclass(SmsProviderError, SmsPermanentError)
    assert not issubclass(SmsTransientError, SmsPermanentError)
