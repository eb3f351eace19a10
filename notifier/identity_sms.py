"""By SMS only, at once: the one-time codes of ``clinic.identity_checks`` (to the mobile of
the check) and the notice to a record's mobile that someone new may now act for it.

Neither goes by chat: a code proves who holds the mobile, and the notice is meant for the
phone on record, not for the chat account just linked. Both are asked for or urgent, so the
quiet hours do not hold them back. The code is worked out here from the check (the outbox row
names only the check), and a code no longer of use (confirmed, replaced, expired) is not sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from clinic import identity_checks
from clinic.i18n import translator
from clinic.log_redaction import keyed
from clinic.models import OutboxStatus
from clinic.outbox import ASKED_FOR, Notice
from clinic.text import to_persian_digits
from notifier.channels import PermanentFailure, RateLimited, TransientFailure, Unreachable
from notifier.retry import backoff
from notifier.texts import WORDING

if TYPE_CHECKING:
    from datetime import datetime

    from clinic.models import OutboxMessage
    from clinic.policy import Department
    from clinic.uow import UnitOfWork
    from notifier.delivery import Channels

log = logging.getLogger(__name__)
KINDS = ASKED_FOR  # sent by SMS only, and woken for (clinic.outbox)
GIVE_UP_AFTER = timedelta(hours=24)  # the notice to the record's mobile (a code expires first)


async def deliver(
    uow: UnitOfWork, row: OutboxMessage, channels: Channels, department: Department
) -> OutboxStatus:
    """Send the leased row's text message; the row's new status (committed)."""
    found = await _text(uow, row, department)
    if found is None:
        return await _finish(uow, row, OutboxStatus.CANCELLED, "no longer of use")
    mobile, text = found
    await uow.commit()  # no transaction (on SQLite: the write lock) waits on the gateway
    if channels.sms is None:
        return await _finish(uow, row, OutboxStatus.FAILED, "no SMS channel")
    try:
        receipt = await channels.sms.send(mobile, text, idempotency_key=f"radyar-{row.id}")
    except RateLimited as exc:
        row.attempts = max(row.attempts - 1, 0)  # being told to wait is not a failure
        return await _again(
            uow, row, "rate limited", uow.clock.now() + timedelta(seconds=exc.retry_after)
        )
    except PermanentFailure as exc:
        return await _finish(uow, row, OutboxStatus.FAILED, str(exc)[:200])
    except (TransientFailure, Unreachable) as exc:
        if uow.clock.now() - row.due_at > GIVE_UP_AFTER:
            return await _finish(uow, row, OutboxStatus.FAILED, f"gave up: {str(exc)[:190]}")
        return await _again(uow, row, str(exc)[:200], backoff(row.attempts, uow.clock.now()))
    row.provider_ref, row.delivery_state = receipt.ref, receipt.state.value
    row.delivery_checked_at = None
    log.info("outbox %s: sms to %s", row.id, keyed(mobile))
    return await _finish(uow, row, OutboxStatus.SENT, None, channel=channels.sms.name)


async def _text(
    uow: UnitOfWork, row: OutboxMessage, department: Department
) -> tuple[str, str] | None:
    """Where the message goes and what it says (in the recipient's language), or None."""
    kind, params = Notice(row.kind), row.params
    code = ""
    if kind is Notice.IDENTITY_CODE:
        sms = await identity_checks.code_sms(uow, int(params["check"]), int(params["send"]))
        if sms is None:
            return None
        mobile, lang, code = sms.mobile, sms.language, sms.code
    else:
        found = await identity_checks.record_mobile(uow, row.recipient_id)
        if found is None:
            return None
        mobile, lang = found
    digits = to_persian_digits if lang == "fa" else str
    text = (
        translator(lang)
        .gettext(WORDING[kind].sms)
        .format(
            department=department.text("name", lang),
            phone=digits(department.phone),
            code=digits(code),
        )
    )
    return mobile, text


async def _again(uow: UnitOfWork, row: OutboxMessage, error: str, at: datetime) -> OutboxStatus:
    row.status, row.next_attempt_at = OutboxStatus.PENDING, at
    row.last_error, row.lease_until = error, None
    await uow.commit()
    return OutboxStatus.PENDING


async def _finish(
    uow: UnitOfWork,
    row: OutboxMessage,
    status: OutboxStatus,
    error: str | None,
    *,
    channel: str | None = None,
) -> OutboxStatus:
    row.status, row.last_error, row.channel, row.lease_until = status, error, channel, None
    if status is OutboxStatus.SENT:
        row.sent_at = uow.clock.now()
    await uow.commit()
    log.info("outbox %s %s: %s", row.id, row.kind, status)
    return status
