"""The hospital systems' settings: the HIS webhook, the MLLP listener, Orthanc, and the limits
of the MLLP and HTTP listeners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifier.gate import ConnectionLimits
from notifier.http_guard import HttpLimits
from notifier.mllp import MllpLimits
from notifier.peers import AllowList
from radyar.settings.parse import Secret, SettingsError, _int, mask_url

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class HospitalSettings:
    """The hospital's systems: HIS webhook secret, MLLP listener for HL7, Orthanc to poll, and
    what the MLLP and HTTP listeners allow (connections, rates, sender addresses)."""

    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    webhook_window_seconds: int = 300
    mllp_host: str = "127.0.0.1"
    mllp_port: int = 2575  # 0: no MLLP listener
    orthanc_url: str | None = None  # None: no PACS poller
    orthanc_user: str = ""
    orthanc_password: Secret = field(default_factory=lambda: Secret(""))
    orthanc_poll_seconds: int = 10
    orthanc_site: str = ""  # the site its studies are of, by HIS name (empty: the only site)
    mllp_limits: MllpLimits = field(default_factory=MllpLimits)
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    # /healthz and /metrics: callers bearing it; empty: callers on this machine only.
    metrics_token: Secret = field(default_factory=lambda: Secret(""))

    def __repr__(self) -> str:
        return (
            f"HospitalSettings(webhook_secret={self.webhook_secret!r}, "
            f"mllp={self.mllp_host}:{self.mllp_port}, "
            f"mllp_allow={self.mllp_limits.connections.allow}, "
            f"webhook_allow={self.http_limits.webhook_allow}, "
            f"orthanc_url={mask_url(self.orthanc_url) if self.orthanc_url else None!r})"
        )


def _allow(env: Mapping[str, str], name: str) -> AllowList:
    try:
        return AllowList.parse(env.get(name, ""))
    except ValueError as exc:
        raise SettingsError(
            f"{name} must be IP addresses or networks separated by commas "
            f"(like 10.0.5.12,10.0.6.0/24): {exc}"
        ) from None


def _mllp_limits(env: Mapping[str, str]) -> MllpLimits:
    return MllpLimits(
        connections=ConnectionLimits(
            max_connections=_int(env, "RADYAR_MLLP_MAX_CONNECTIONS", 64, 1, 10000),
            max_per_peer=_int(env, "RADYAR_MLLP_MAX_PER_PEER", 8, 1, 10000),
            idle_seconds=_int(env, "RADYAR_MLLP_IDLE_SECONDS", 60, 1, 86400),
            allow=_allow(env, "RADYAR_MLLP_ALLOW"),
        ),
        frame_seconds=_int(env, "RADYAR_MLLP_FRAME_SECONDS", 30, 1, 3600),
        frames_per_second=_int(env, "RADYAR_MLLP_FRAMES_PER_SECOND", 20, 1, 10000),
        max_frame=_int(env, "RADYAR_MLLP_MAX_FRAME_KB", 256, 16, 65536) * 1024,
    )


def _http_limits(env: Mapping[str, str]) -> HttpLimits:
    return HttpLimits(
        connections=ConnectionLimits(
            max_connections=_int(env, "RADYAR_HTTP_MAX_CONNECTIONS", 64, 1, 10000),
            max_per_peer=_int(env, "RADYAR_HTTP_MAX_PER_PEER", 16, 1, 10000),
            idle_seconds=_int(env, "RADYAR_HTTP_IDLE_SECONDS", 30, 1, 3600),
        ),
        webhook_allow=_allow(env, "RADYAR_HIS_WEBHOOK_ALLOW"),
        max_in_flight=_int(env, "RADYAR_HTTP_MAX_IN_FLIGHT", 16, 1, 10000),
        requests_per_second=_int(env, "RADYAR_HTTP_REQUESTS_PER_SECOND", 20, 1, 10000),
    )


def report_corrections_per_day(env: Mapping[str, str]) -> int:
    """``Policy.report_corrections_per_day``: the corrections of one report a patient is told
    of per Tehran day (each correction the RIS sends, or anyone who reaches the MLLP port,
    would otherwise be another notice and maybe an SMS); 0: corrections tell nobody."""
    return _int(env, "RADYAR_REPORT_CORRECTIONS_PER_DAY", 2, 0, 50)


def _hospital(env: Mapping[str, str]) -> HospitalSettings:
    secret = env.get("RADYAR_HIS_WEBHOOK_SECRET", "")
    if secret and len(secret) < 16:
        raise SettingsError("RADYAR_HIS_WEBHOOK_SECRET must be at least 16 characters")
    metrics_token = env.get("RADYAR_METRICS_TOKEN", "").strip()
    if metrics_token and len(metrics_token) < 16:
        raise SettingsError(
            "RADYAR_METRICS_TOKEN must be at least 16 characters (or empty: /healthz and "
            "/metrics answer callers on this machine only)"
        )
    return HospitalSettings(
        webhook_secret=Secret(secret),
        metrics_token=Secret(metrics_token),
        webhook_window_seconds=_int(env, "RADYAR_HIS_WEBHOOK_WINDOW_SECONDS", 300, 30, 3600),
        mllp_host=env.get("RADYAR_MLLP_HOST") or "127.0.0.1",
        mllp_port=_int(env, "RADYAR_MLLP_PORT", 2575, 0, 65535),
        orthanc_url=(env.get("RADYAR_ORTHANC_URL") or "").rstrip("/") or None,
        orthanc_user=env.get("RADYAR_ORTHANC_USER", ""),
        orthanc_password=Secret(env.get("RADYAR_ORTHANC_PASSWORD", "")),
        orthanc_poll_seconds=_int(env, "RADYAR_ORTHANC_POLL_SECONDS", 10, 1, 3600),
        orthanc_site=env.get("RADYAR_ORTHANC_SITE", "").strip(),
        mllp_limits=_mllp_limits(env),
        http_limits=_http_limits(env),
    )
