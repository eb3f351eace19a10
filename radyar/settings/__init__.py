"""Settings: one frozen object read from ``RADYAR_*`` environment variables, secrets masked.

``Settings`` gathers the sections, each read by its own module: ``bot``, ``sms``, ``hospital``,
``worker`` and ``department`` (with the policy's link rules and caps), on the shared readers of
``parse``. Import the names from here (``from radyar.settings import Settings``)."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from clinic.policy import Department, Policy
from clinic.retention import RetentionRules
from radyar.settings.bot import PLATFORMS, BotSettings, _bot
from radyar.settings.department import _caps, _department, _link
from radyar.settings.hospital import HospitalSettings, _hospital, report_corrections_per_day
from radyar.settings.outbound import OutboundSettings, outbound_settings
from radyar.settings.parse import Secret, SettingsError, _bool, _hours_list, _int, mask_url
from radyar.settings.sms import SMS_PROVIDERS, SmsSettings, _sms
from radyar.settings.sms_inbound import SmsInboundSettings, sms_inbound_settings
from radyar.settings.worker import WorkerSettings, _quiet_hours

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "PLATFORMS",
    "SMS_PROVIDERS",
    "BotSettings",
    "HospitalSettings",
    "OutboundSettings",
    "Secret",
    "Settings",
    "SettingsError",
    "SmsSettings",
    "WorkerSettings",
    "mask_url",
]


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
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    # Keys the hashes log lines carry for mobiles and national codes (clinic.log_redaction).
    log_key: Secret = field(default_factory=lambda: Secret(""))
    sms_inbound: SmsInboundSettings = field(default_factory=SmsInboundSettings)
    retention: RetentionRules = field(default_factory=RetentionRules)

    def secrets(self) -> list[str]:
        """Every secret set (tokens, keys, passwords, the database password), for the log
        filter to mask wherever one shows up."""
        found: list[str] = []

        def walk(value: object, depth: int = 0) -> None:
            if isinstance(value, Secret):
                found.append(value.reveal())
            elif is_dataclass(value) and not isinstance(value, type) and depth < 4:
                for part in fields(value):
                    walk(getattr(value, part.name), depth + 1)
            elif isinstance(value, (list, tuple)) and depth < 4:
                for item in value:
                    walk(item, depth + 1)

        walk(self)
        with suppress(Exception):  # an unparsable URL has no password to mask
            found.append(make_url(self.database_url).password or "")
        return [s for s in found if s]

    def __repr__(self) -> str:
        return (
            f"Settings(database_url={mask_url(self.database_url)!r}, data_dir={self.data_dir!r}, "
            f"language={self.language!r}, log_level={self.log_level!r}, policy={self.policy!r}, "
            f"bot={self.bot!r}, sms={self.sms!r}, sms_failover={self.sms_failover!r}, "
            f"hospital={self.hospital!r}, outbound={self.outbound!r}, "
            f"sms_inbound={self.sms_inbound!r})"
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
        told = outbound_settings(env)
        inbound = sms_inbound_settings(env)
        told_events = _told(told)
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
            outbound=tuple(adapter for adapter, _ in told_events),
            outbound_events=told_events,
            sms_reply_hours=inbound.policy_hours,
            report_corrections_per_day=report_corrections_per_day(env),
            **_caps(env),
        )
        quiet = _quiet_hours(env)
        log_key = env.get("RADYAR_LOG_KEY", "").strip()
        if log_key and len(log_key) < 16:
            raise SettingsError("RADYAR_LOG_KEY must be at least 16 characters")
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
                sms_after_urgent_minutes=_int(
                    env, "RADYAR_SMS_FALLBACK_URGENT_MINUTES", 10, 1, 1440
                ),
                sms_after_minutes=_int(env, "RADYAR_SMS_FALLBACK_MINUTES", 60, 1, 1440),
                sms_after_reminder_minutes=_int(
                    env, "RADYAR_SMS_FALLBACK_REMINDER_MINUTES", 180, 1, 2880
                ),
                reminder_last_minutes=_int(env, "RADYAR_REMINDER_LAST_MINUTES", 60, 0, 1440),
            ),
            told,
            Secret(log_key),
            inbound,
            RetentionRules(
                draft_hours=_int(env, "RADYAR_RETAIN_DRAFT_HOURS", 48, 1, 8760),
                upload_hours=_int(env, "RADYAR_RETAIN_UPLOAD_HOURS", 24, 1, 8760),
                prescription_days=_int(env, "RADYAR_RETAIN_PRESCRIPTION_DAYS", 90, 1, 3650),
                refused_days=_int(env, "RADYAR_RETAIN_REFUSED_DAYS", 30, 1, 3650),
                outbox_days=_int(env, "RADYAR_RETAIN_OUTBOX_DAYS", 90, 1, 3650),
            ),
        )


def _told(outbound: OutboundSettings) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each adapter that is on, with the kinds of booking change it is told of."""
    told: list[tuple[str, tuple[str, ...]]] = []
    if outbound.ris is not None:
        told.append((outbound.ris.adapter, outbound.ris.events))
    if outbound.fhir.base_url is not None:
        told.append(("fhir", outbound.fhir_events))
    return tuple(told)
