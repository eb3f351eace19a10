"""How often a patient is told that a report was corrected: at most the policy's number of
times a Tehran day for one report (``Policy.report_corrections_per_day``). Each correction
the RIS sends is a new notice, maybe an SMS, and anyone who reaches the MLLP port can send
them; past the number a correction is still recorded on the report, but tells nobody."""

from __future__ import annotations

import logging
from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic import audit
from clinic.actors import Actor
from clinic.jalali import tehran_datetime, to_tehran
from clinic.models import AuditEntry, OutboxMessage

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)
# Audited once a day for a report whose corrections went past the day's number.
CORRECTIONS_CAPPED = "report.corrections_capped"


def corrected_key(report_id: int) -> str:
    """The start of the outbox key of each correction notice of the report."""
    return f"report:{report_id}:corrected:"


async def may_tell_correction(uow: UnitOfWork, report_id: int) -> bool:
    """Whether the patient may be told of one more correction of the report today (Tehran):
    fewer than the policy's number were queued for it since midnight. The first correction
    past it is audited (``report.corrections_capped``, once a day a report, so a flood of
    them fills nothing)."""
    midnight = tehran_datetime(to_tehran(uow.clock.now()).date(), time.min)
    told = await uow.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.dedup_key.startswith(corrected_key(report_id), autoescape=True),
            OutboxMessage.created_at >= midnight,
        )
    )
    cap = uow.policy.report_corrections_per_day
    if (told or 0) < cap:
        return True
    capped = await uow.session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == CORRECTIONS_CAPPED,
            AuditEntry.entity == "report",
            AuditEntry.entity_id == report_id,
            AuditEntry.at >= midnight,
        )
        .limit(1)
    )
    if capped is None:
        await audit.record(
            uow, Actor.system(), CORRECTIONS_CAPPED, "report", report_id, per_day=cap
        )
    log.info("report %s: a correction past %s today; the patient is not told", report_id, cap)
    return False


__all__ = ["CORRECTIONS_CAPPED", "corrected_key", "may_tell_correction"]
