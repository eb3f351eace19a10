"""Answers by SMS reply: how inbound SMS reach us (polled from the gateway, forwarded by it to
our HTTP listener, or not at all), how often, on which line, behind which secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifier.peers import AllowList
from notifier.sms_inbound_web import MIN_SECRET
from radyar.settings.parse import Secret, SettingsError, _int

if TYPE_CHECKING:
    from collections.abc import Mapping

MODES = ("off", "poll", "callback")
# The gateways whose receive API is polled; the callback is Kavenegar's forward-to-URL.
POLLED = ("kavenegar", "smsir")


@dataclass(frozen=True)
class SmsInboundSettings:
    """``mode``: ``poll`` asks the gateway every ``poll_seconds``; ``callback`` takes
    Kavenegar's forwarded messages on the HTTP listener at
    ``/sms/inbound/kavenegar/<secret>``, from ``allow`` (empty: any address); ``off`` (the
    default) reads no replies, and reminders and offers by SMS invite none. ``line`` is the
    number replies are sent to (Kavenegar's sms/receive needs it; default: the sender line).
    ``reply_hours``: how long a question asked by SMS can be answered."""

    mode: str = "off"
    poll_seconds: int = 30
    reply_hours: int = 72
    secret: Secret = field(default_factory=lambda: Secret(""))
    line: str = ""
    allow: AllowList = field(default_factory=AllowList)

    @property
    def enabled(self) -> bool:
        """Whether replies are read at all (reminders and offers by SMS then invite one)."""
        return self.mode != "off"

    @property
    def policy_hours(self) -> int:
        """``Policy.sms_reply_hours``: how long a question can be answered, 0 when off."""
        return self.reply_hours if self.enabled else 0

    def __repr__(self) -> str:
        return (
            f"SmsInboundSettings(mode={self.mode!r}, poll_seconds={self.poll_seconds}, "
            f"reply_hours={self.reply_hours}, "
            f"secret={self.secret!r}, line={self.line!r}, allow={self.allow})"
        )


def sms_inbound_settings(env: Mapping[str, str]) -> SmsInboundSettings:
    """Read RADYAR_SMS_INBOUND (poll, callback or off), RADYAR_SMS_INBOUND_POLL_SECONDS
    (5-3600, default 30), RADYAR_SMS_REPLY_HOURS (1-720, default 72),
    RADYAR_SMS_INBOUND_SECRET, RADYAR_SMS_INBOUND_LINE (default
    RADYAR_SMS_SENDER) and RADYAR_SMS_INBOUND_ALLOW. Raises SettingsError for another mode,
    polling a gateway without a receive API (the log provider) or Kavenegar with no line, a
    callback without Kavenegar or with a secret shorter than 16 characters."""
    mode = (env.get("RADYAR_SMS_INBOUND") or "off").strip().lower()
    if mode not in MODES:
        raise SettingsError(f"RADYAR_SMS_INBOUND must be one of {', '.join(MODES)}, got {mode!r}")
    provider = (env.get("RADYAR_SMS_PROVIDER") or "log").strip().lower()
    line = (env.get("RADYAR_SMS_INBOUND_LINE") or env.get("RADYAR_SMS_SENDER") or "").strip()
    secret = env.get("RADYAR_SMS_INBOUND_SECRET", "").strip()
    if mode == "poll" and provider not in POLLED:
        raise SettingsError(
            "RADYAR_SMS_INBOUND=poll needs RADYAR_SMS_PROVIDER kavenegar or smsir "
            "(their receive APIs are polled)"
        )
    if mode == "poll" and provider == "kavenegar" and not line:
        raise SettingsError(
            "RADYAR_SMS_INBOUND=poll with Kavenegar needs the line replies come to: "
            "RADYAR_SMS_INBOUND_LINE or RADYAR_SMS_SENDER"
        )
    if mode == "callback" and provider != "kavenegar":
        raise SettingsError("RADYAR_SMS_INBOUND=callback is Kavenegar's forward-to-URL")
    if mode == "callback" and len(secret) < MIN_SECRET:
        raise SettingsError(
            f"RADYAR_SMS_INBOUND_SECRET must be at least {MIN_SECRET} characters for the "
            "callback (it is the secret part of the URL Kavenegar calls)"
        )
    try:
        allow = AllowList.parse(env.get("RADYAR_SMS_INBOUND_ALLOW", ""))
    except ValueError as exc:
        raise SettingsError(
            f"RADYAR_SMS_INBOUND_ALLOW must be IP addresses or networks separated by commas: {exc}"
        ) from None
    return SmsInboundSettings(
        mode=mode,
        poll_seconds=_int(env, "RADYAR_SMS_INBOUND_POLL_SECONDS", 30, 5, 3600),
        reply_hours=_int(env, "RADYAR_SMS_REPLY_HOURS", 72, 1, 720),
        secret=Secret(secret),
        line=line,
        allow=allow,
    )


__all__ = ["SmsInboundSettings", "sms_inbound_settings"]
