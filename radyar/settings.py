"""Settings: one frozen object read from ``RADYAR_*`` environment variables, secrets masked."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from clinic.policy import Department, LinkRules, Policy
from clinic.text import normalize_digits
from notifier.gate import ConnectionLimits
from notifier.http_guard import HttpLimits
from notifier.mllp import MllpLimits
from notifier.peers import AllowList

if TYPE_CHECKING:
    from collections.abc import Mapping


class SettingsError(ValueError):
    """An environment variable has a value we cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _hours_list(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        hours = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise SettingsError(f"{name} must be hours separated by commas, like 24,2") from None
    if not hours or any(not 0 < h <= 168 for h in hours):
        raise SettingsError(f"{name} hours must each be between 1 and 168")
    return hours


def mask_url(url: str) -> str:
    """The database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as nothing rather than leaked
        return "<unparsable database URL>"


class Secret:
    """A secret value that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__


PLATFORMS = ("telegram", "bale")


@dataclass(frozen=True)
class BotSettings:
    """The chat bot: which platform, its token, where its Bot API is, polling or webhook."""

    platform: str = "telegram"
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    bale_token: Secret = field(default_factory=lambda: Secret(""))
    api_url: str | None = None
    file_url: str | None = None
    proxy: Secret = field(default_factory=lambda: Secret(""))
    webhook_url: str | None = None
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    concurrency: int = 16  # updates of different chats handled at once
    flood_updates: int = 30  # per account in a burst, refilled over flood_window_seconds
    flood_staff_updates: int = 90
    flood_window_seconds: int = 30
    send_per_second: int = 30  # messages sent or edited per second, bot and notifier together
    send_chat_burst: int = 3  # messages to one chat at once before one a second applies

    def token(self) -> Secret:
        """The token of the configured platform."""
        return self.telegram_token if self.platform == "telegram" else self.bale_token


def _bot(env: Mapping[str, str]) -> BotSettings:
    platform = (env.get("RADYAR_PLATFORM") or "telegram").lower()
    if platform not in PLATFORMS:
        raise SettingsError(f"RADYAR_PLATFORM must be telegram or bale, got {platform!r}")
    secret = env.get("RADYAR_WEBHOOK_SECRET", "")
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise SettingsError("RADYAR_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256)")
    return BotSettings(
        platform=platform,
        telegram_token=Secret(env.get("RADYAR_TELEGRAM_TOKEN", "")),
        bale_token=Secret(env.get("RADYAR_BALE_TOKEN", "")),
        api_url=env.get("RADYAR_BOT_API_URL") or None,
        file_url=env.get("RADYAR_BOT_FILE_URL") or None,
        proxy=Secret(env.get("RADYAR_TELEGRAM_PROXY", "")),
        webhook_url=env.get("RADYAR_WEBHOOK_URL") or None,
        webhook_secret=Secret(secret),
        listen_host=env.get("RADYAR_LISTEN_HOST") or "127.0.0.1",
        listen_port=_int(env, "RADYAR_LISTEN_PORT", 8080, 1, 65535),
        concurrency=_int(env, "RADYAR_BOT_CONCURRENCY", 16, 1, 256),
        flood_updates=_int(env, "RADYAR_FLOOD_UPDATES", 30, 5, 10_000),
        flood_staff_updates=_int(env, "RADYAR_FLOOD_STAFF_UPDATES", 90, 5, 10_000),
        flood_window_seconds=_int(env, "RADYAR_FLOOD_WINDOW_SECONDS", 30, 1, 3600),
        send_per_second=_int(env, "RADYAR_SEND_PER_SECOND", 30, 1, 1000),
        send_chat_burst=_int(env, "RADYAR_SEND_CHAT_BURST", 3, 1, 20),
    )


@dataclass(frozen=True)
class SmsSettings:
    """One SMS gateway: its provider plugin name, key, address and sender line."""

    provider: str = "log"
    api_key: Secret = field(default_factory=lambda: Secret(""))
    base_url: str | None = None
    sender: str = ""


SMS_PROVIDERS = ("log", "kavenegar", "smsir")


def _sms(env: Mapping[str, str], prefix: str, default: str | None) -> SmsSettings | None:
    provider = (env.get(f"{prefix}_PROVIDER") or default or "").lower()
    if not provider:
        return None
    if provider not in SMS_PROVIDERS:
        raise SettingsError(f"{prefix}_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}")
    key = env.get(f"{prefix}_API_KEY", "")
    if provider != "log" and not key:
        raise SettingsError(f"{prefix}_API_KEY is needed for the {provider} SMS provider")
    return SmsSettings(
        provider=provider,
        api_key=Secret(key),
        base_url=env.get(f"{prefix}_BASE_URL") or None,
        sender=env.get(f"{prefix}_SENDER", ""),
    )


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
    mllp_limits: MllpLimits = field(default_factory=MllpLimits)
    http_limits: HttpLimits = field(default_factory=HttpLimits)

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


def _hospital(env: Mapping[str, str]) -> HospitalSettings:
    secret = env.get("RADYAR_HIS_WEBHOOK_SECRET", "")
    if secret and len(secret) < 16:
        raise SettingsError("RADYAR_HIS_WEBHOOK_SECRET must be at least 16 characters")
    return HospitalSettings(
        webhook_secret=Secret(secret),
        webhook_window_seconds=_int(env, "RADYAR_HIS_WEBHOOK_WINDOW_SECONDS", 300, 30, 3600),
        mllp_host=env.get("RADYAR_MLLP_HOST") or "127.0.0.1",
        mllp_port=_int(env, "RADYAR_MLLP_PORT", 2575, 0, 65535),
        orthanc_url=(env.get("RADYAR_ORTHANC_URL") or "").rstrip("/") or None,
        orthanc_user=env.get("RADYAR_ORTHANC_USER", ""),
        orthanc_password=Secret(env.get("RADYAR_ORTHANC_PASSWORD", "")),
        orthanc_poll_seconds=_int(env, "RADYAR_ORTHANC_POLL_SECONDS", 10, 1, 3600),
        mllp_limits=_mllp_limits(env),
        http_limits=_http_limits(env),
    )


@dataclass(frozen=True)
class WorkerSettings:
    """The outbox worker: rows claimed per round, sent at once, how long a claim lasts, the
    SMS quiet hours (Tehran; equal ends: none) and when a failing notice is given up."""

    batch: int = 50
    concurrency: int = 10
    lease_seconds: int = 120
    quiet_from: time = time(22, 0)
    quiet_until: time = time(7, 0)
    give_up_hours: int = 24


def _quiet_hours(env: Mapping[str, str]) -> tuple[time, time]:
    raw = (env.get("RADYAR_SMS_QUIET_HOURS") or "22:00-07:00").strip().lower()
    if raw in ("off", "none"):
        return time(0, 0), time(0, 0)
    try:
        start, end = (
            time.fromisoformat(normalize_digits(part).strip()) for part in raw.split("-")
        )
    except ValueError:
        raise SettingsError(
            "RADYAR_SMS_QUIET_HOURS must look like 22:00-07:00 (Tehran time), or off"
        ) from None
    return start, end


def _link(env: Mapping[str, str]) -> LinkRules:
    key = env.get("RADYAR_LINK_CODE_KEY", "")
    if key and len(key) < 16:
        raise SettingsError("RADYAR_LINK_CODE_KEY must be at least 16 characters")
    return LinkRules(
        code_lifetime=timedelta(hours=_int(env, "RADYAR_LINK_CODE_HOURS", 24, 1, 168)),
        account_failures=_int(env, "RADYAR_LINK_MAX_FAILURES", 5, 1, 100),
        window=timedelta(minutes=_int(env, "RADYAR_LINK_WINDOW_MINUTES", 60, 1, 1440)),
        lockout=timedelta(minutes=_int(env, "RADYAR_LINK_LOCKOUT_MINUTES", 60, 1, 10080)),
        code_failures=_int(env, "RADYAR_LINK_CODE_MAX_FAILURES", 3, 1, 20),
        global_failures=_int(env, "RADYAR_LINK_GLOBAL_FAILURES", 50, 0, 100000),
        key=key.encode(),
    )


def _caps(env: Mapping[str, str]) -> dict[str, int]:
    """What one patient may keep at once (no hoarding); a per-exam cap is within the overall."""
    caps = {
        "max_open_referrals_per_exam": _int(env, "RADYAR_MAX_OPEN_REFERRALS_PER_EXAM", 1, 1, 50),
        "max_open_referrals": _int(env, "RADYAR_MAX_OPEN_REFERRALS", 3, 1, 50),
        "max_future_bookings_per_exam": _int(env, "RADYAR_MAX_FUTURE_BOOKINGS_PER_EXAM", 1, 1, 50),
        "max_future_bookings": _int(env, "RADYAR_MAX_FUTURE_BOOKINGS", 3, 1, 50),
        "repeat_review_days": _int(env, "RADYAR_REPEAT_REFERRAL_REVIEW_DAYS", 7, 0, 365),
    }
    for kind in ("OPEN_REFERRALS", "FUTURE_BOOKINGS"):
        per_exam, overall = caps[f"max_{kind.lower()}_per_exam"], caps[f"max_{kind.lower()}"]
        if per_exam > overall:
            raise SettingsError(
                f"RADYAR_MAX_{kind}_PER_EXAM ({per_exam}) must not be more than "
                f"RADYAR_MAX_{kind} ({overall})"
            )
    return caps


def _department(env: Mapping[str, str]) -> Department:
    defaults = Department()
    values = {
        name: env.get(f"RADYAR_DEPARTMENT_{name.upper()}") or getattr(defaults, name)
        for name in defaults.__dataclass_fields__
    }
    return Department(**values)


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with ``Settings.from_env()`` in the entry point only."""

    database_url: str = field(repr=False)
    data_dir: Path
    language: str
    log_level: str
    policy: Policy
    bot: BotSettings = field(default_factory=BotSettings)
    department: Department = field(default_factory=Department)
    sms: SmsSettings | None = field(default_factory=SmsSettings)
    sms_failover: SmsSettings | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8090
    hospital: HospitalSettings = field(default_factory=HospitalSettings)
    worker: WorkerSettings = field(default_factory=lambda: WorkerSettings())

    def __repr__(self) -> str:
        return (
            f"Settings(database_url={mask_url(self.database_url)!r}, data_dir={self.data_dir!r}, "
            f"language={self.language!r}, log_level={self.log_level!r}, policy={self.policy!r}, "
            f"bot={self.bot!r}, sms={self.sms!r}, sms_failover={self.sms_failover!r}, "
            f"hospital={self.hospital!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``RADYAR_*`` variables (see the README's table); raise SettingsError if bad."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("RADYAR_DATA_DIR") or "var")
        url = env.get("RADYAR_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'radyar.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
        if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            url = "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
        language = env.get("RADYAR_LANG", "fa") or "fa"
        if language not in ("fa", "en"):
            raise SettingsError(f"RADYAR_LANG must be fa or en, got {language!r}")
        log_level = (env.get("RADYAR_LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("RADYAR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        policy = Policy(
            horizon_days=_int(env, "RADYAR_HORIZON_DAYS", 30, 1, 365),
            hold_minutes=_int(env, "RADYAR_HOLD_MINUTES", 10, 1, 240),
            min_lead_minutes=_int(env, "RADYAR_MIN_LEAD_MINUTES", 120, 0, 10080),
            patient_cancel_notice_hours=_int(env, "RADYAR_CANCEL_NOTICE_HOURS", 24, 0, 720),
            waitlist_offer_minutes=_int(env, "RADYAR_WAITLIST_OFFER_MINUTES", 120, 5, 2880),
            reminder_hours=_hours_list(env, "RADYAR_REMINDER_HOURS", (24, 2)),
            closure_move=_bool(env, "RADYAR_CLOSURE_MOVE", True),
            observe_holidays=_bool(env, "RADYAR_OBSERVE_HOLIDAYS", True),
            link=_link(env),
            **_caps(env),
        )
        quiet = _quiet_hours(env)
        return cls(
            url,
            data_dir,
            language,
            log_level,
            policy,
            _bot(env),
            _department(env),
            _sms(env, "RADYAR_SMS", "log"),
            _sms(env, "RADYAR_SMS_FAILOVER", None),
            env.get("RADYAR_HTTP_HOST") or "127.0.0.1",
            _int(env, "RADYAR_HTTP_PORT", 8090, 1, 65535),
            _hospital(env),
            WorkerSettings(
                batch=_int(env, "RADYAR_WORKER_BATCH", 50, 1, 1000),
                concurrency=_int(env, "RADYAR_WORKER_CONCURRENCY", 10, 1, 100),
                lease_seconds=_int(env, "RADYAR_OUTBOX_LEASE_SECONDS", 120, 5, 3600),
                quiet_from=quiet[0],
                quiet_until=quiet[1],
                give_up_hours=_int(env, "RADYAR_GIVE_UP_HOURS", 24, 1, 168),
            ),
        )
