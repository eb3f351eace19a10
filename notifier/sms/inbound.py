"""Reading the SMS phones sent to our line: Kavenegar's sms/receive, SMS.ir's receive/latest.

- Kavenegar ``sms/receive`` (``linenumber``, ``isread=0``) answers the line's unread messages
  (``messageid``, ``message``, ``sender``, ``receptor``, ``date``) and marks them read, so each
  is handed over once; a crash between the answer and our commit loses them, which the
  forward-to-URL callback (``notifier.sms_inbound_web``) does not.
- SMS.ir ``GET /v1/receive/latest?count=`` answers the latest messages (``messageText``,
  ``mobile``, ``number``, ``receivedDateTime``), read or not, every time: the same message
  comes back poll after poll, and more than ``count`` between two polls are missed. Its SDKs
  show no message id, so one is made from the message itself (see ``smsir_id``).

Either way the clinic keeps each message once per gateway id (``clinic.sms_replies``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clinic.sms_replies import IncomingSms

from .base import SmsTransientError
from .failover import FailoverSms
from .kavenegar import KavenegarSms
from .smsir import SmsIrSms

if TYPE_CHECKING:
    from .base import SmsProvider

LATEST = 100  # SMS.ir's receive/latest count (the SDKs' examples ask for at most 100)


async def kavenegar_receive(provider: KavenegarSms, line: str) -> list[IncomingSms]:
    """The unread messages to ``line`` (Kavenegar marks them read as it answers)."""
    entries = await provider._post("sms", "receive", {"linenumber": line, "isread": "0"})
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise SmsTransientError(provider.name, "bad-response", "receive entries not a list")
    return [m for e in entries if isinstance(e, dict) and (m := _kavenegar(e, line))]


def _kavenegar(entry: dict[str, Any], line: str) -> IncomingSms | None:
    message_id, sender = entry.get("messageid"), entry.get("sender")
    if message_id in (None, "") or not sender:
        return None
    return IncomingSms(
        provider="kavenegar",
        message_id=str(message_id),
        sender=str(sender),
        text=str(entry.get("message") or ""),
        line=str(entry.get("receptor") or line),
        sent_at=_unix(entry.get("date")),
    )


async def smsir_receive(provider: SmsIrSms, count: int = LATEST) -> list[IncomingSms]:
    """The latest ``count`` messages to any of the account's lines, newest first."""
    data = await provider._request("GET", f"receive/latest?count={count}")
    if data is None:
        return []
    if not isinstance(data, list):
        raise SmsTransientError(provider.name, "bad-response", "receive data not a list")
    return [m for e in data if isinstance(e, dict) and (m := _smsir(_lower(e)))]


def _smsir(entry: dict[str, Any]) -> IncomingSms | None:
    sender = entry.get("mobile")
    if sender in (None, ""):
        return None
    given = entry.get("messageid") or entry.get("id")
    return IncomingSms(
        provider="smsir",
        message_id=str(given) if given not in (None, "") else smsir_id(entry),
        sender=str(sender),
        text=str(entry.get("messagetext") or ""),
        line=str(entry.get("number") or ""),
        sent_at=_unix(entry.get("receiveddatetime")),
    )


def smsir_id(entry: dict[str, Any]) -> str:
    """A stand-in id for an SMS.ir message that has none: a hash of who sent what, to which
    line, when (the same text from one phone in the same second counts once)."""
    parts = [str(entry.get(k) or "") for k in ("mobile", "number", "receiveddatetime")]
    raw = "\x1f".join([*parts, str(entry.get("messagetext") or "")])
    return "h" + hashlib.sha256(raw.encode()).hexdigest()[:40]


async def poll_inbound(provider: SmsProvider, line: str = "") -> list[IncomingSms]:
    """What the gateway behind ``provider`` holds for us: Kavenegar's unread messages to
    ``line`` (default: its sender line), SMS.ir's latest; both gateways behind a failover (the
    secondary on its own sender line: a reply goes to the line the SMS came from); none for
    the log provider. Raises SmsError as the provider's calls do."""
    if isinstance(provider, FailoverSms):
        first = await poll_inbound(provider.primary, line)
        return first + await poll_inbound(provider.secondary)
    if isinstance(provider, KavenegarSms):
        chosen = line or provider.sender
        return await kavenegar_receive(provider, chosen) if chosen else []
    if isinstance(provider, SmsIrSms):
        return await smsir_receive(provider)
    return []


def _lower(entry: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in entry.items()}


def _unix(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
