"""The FHIR settings: off unless set, the server's URL checked, the read token long enough,
and no secret in their repr."""

from __future__ import annotations

import pytest

from radyar.settings.fhir import FhirSettings, fhir_settings
from radyar.settings.parse import SettingsError

READ_TOKEN = "ris-reads-appointments-0123"


def test_nothing_set_means_no_fhir_server_and_no_read_endpoint() -> None:
    settings = fhir_settings({})
    assert settings.base_url is None
    assert not settings.token and not settings.read_token
    assert settings.timeout_seconds == 10


def test_the_server_token_timeout_and_read_token_are_read() -> None:
    settings = fhir_settings(
        {
            "RADYAR_FHIR_URL": "https://his.example/fhir/",
            "RADYAR_FHIR_TOKEN": "server-bearer",
            "RADYAR_FHIR_TIMEOUT_SECONDS": "25",
            "RADYAR_FHIR_READ_TOKEN": READ_TOKEN,
        }
    )
    assert settings.base_url == "https://his.example/fhir"
    assert settings.token.reveal() == "server-bearer"
    assert settings.timeout_seconds == 25
    assert settings.read_token.reveal() == READ_TOKEN


@pytest.mark.parametrize(
    "url",
    ["ftp://his.example/fhir", "his.example/fhir", "https:///fhir", "https://his/fhir?x=1"],
)
def test_a_url_that_is_not_an_http_base_url_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="RADYAR_FHIR_URL"):
        fhir_settings({"RADYAR_FHIR_URL": url})


def test_a_short_read_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="RADYAR_FHIR_READ_TOKEN must be at least 16"):
        fhir_settings({"RADYAR_FHIR_READ_TOKEN": "short-token"})


@pytest.mark.parametrize("value", ["0", "301", "ten", "1.5"])
def test_a_timeout_out_of_range_or_not_whole_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="RADYAR_FHIR_TIMEOUT_SECONDS"):
        fhir_settings({"RADYAR_FHIR_TIMEOUT_SECONDS": value})


def test_the_repr_shows_no_secret() -> None:
    settings = fhir_settings(
        {
            "RADYAR_FHIR_URL": "https://radyar:url-password@his.example/fhir",
            "RADYAR_FHIR_TOKEN": "server-bearer-secret",
            "RADYAR_FHIR_READ_TOKEN": READ_TOKEN,
        }
    )
    shown = repr(settings)
    for secret in ("url-password", "server-bearer-secret", READ_TOKEN):
        assert secret not in shown
    assert "his.example/fhir" in shown
    assert repr(FhirSettings()).startswith("FhirSettings(base_url=None")
