"""The FHIR settings: the hospital's FHIR server that booking changes are written to, and the
token of our own read endpoint (GET /fhir/Appointment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from radyar.settings.parse import Secret, SettingsError, _int

if TYPE_CHECKING:
    from collections.abc import Mapping

MIN_TOKEN = 16  # characters: a read token is a shared secret, not a password to remember


@dataclass(frozen=True)
class FhirSettings:
    """The FHIR server's base URL (None: no FHIR Appointments are sent), the bearer token it
    wants (empty: none sent), how long one request may take, and the token the hospital's
    systems bring to read our appointments (empty: the read endpoint is off)."""

    base_url: str | None = None
    token: Secret = field(default_factory=lambda: Secret(""))
    timeout_seconds: int = 10
    read_token: Secret = field(default_factory=lambda: Secret(""))

    def __repr__(self) -> str:
        return (
            f"FhirSettings(base_url={_shown(self.base_url)!r}, token={self.token!r}, "
            f"timeout_seconds={self.timeout_seconds}, read_token={self.read_token!r})"
        )


def _shown(url: str | None) -> str | None:
    """The URL without a user name or password someone may have put in it."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def _base_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("RADYAR_FHIR_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            "RADYAR_FHIR_URL must be the FHIR server's http:// or https:// base URL, "
            "like https://his.example/fhir"
        )
    if parts.query or parts.fragment:
        raise SettingsError("RADYAR_FHIR_URL must be a base URL, without ? or #")
    return raw.rstrip("/")


def fhir_settings(env: Mapping[str, str]) -> FhirSettings:
    """Read RADYAR_FHIR_URL, RADYAR_FHIR_TOKEN, RADYAR_FHIR_TIMEOUT_SECONDS and
    RADYAR_FHIR_READ_TOKEN. Raises SettingsError for a URL that is not http(s), a time-out
    outside 1-300 seconds, or a read token shorter than 16 characters."""
    read_token = env.get("RADYAR_FHIR_READ_TOKEN", "").strip()
    if read_token and len(read_token) < MIN_TOKEN:
        raise SettingsError(
            f"RADYAR_FHIR_READ_TOKEN must be at least {MIN_TOKEN} characters "
            "(or empty, to turn the FHIR read endpoint off)"
        )
    return FhirSettings(
        base_url=_base_url(env),
        token=Secret(env.get("RADYAR_FHIR_TOKEN", "").strip()),
        timeout_seconds=_int(env, "RADYAR_FHIR_TIMEOUT_SECONDS", 10, 1, 300),
        read_token=Secret(read_token),
    )


__all__ = ["FhirSettings", "fhir_settings"]
