"""Reporting: mark a report final or corrected by accession number (no HIS integration)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.drafts import StaffInput
from bot.staff.common import ask, back, waiting
from clinic import audit
from clinic.i18n import N_
from clinic.models import Role
from clinic.reports import Outcome, ReportEvent, parse_accession, report_event

if TYPE_CHECKING:
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor

ASK = N_("Please type the accession number of the report.")
DONE = {
    Outcome.APPLIED: N_("Report {accession} is marked {kind}; the patient will be told."),
    Outcome.DUPLICATE: N_("Report {accession} was already marked {kind}; nothing changed."),
    Outcome.UNMATCHED: N_(
        "No admitted appointment has accession number {accession} yet; the event is kept and "
        "applied when reception records that number."
    ),
}
KINDS = {"f": (ReportEvent.FINAL, N_("final")), "c": (ReportEvent.CORRECTED, N_("corrected"))}


async def final_ask(p: Press) -> View:
    """Wait for the accession number of a final report."""
    ask(p.context, StaffInput(kind="report", event="f"))
    return p.context._(ASK), None


async def corrected_ask(p: Press) -> View:
    """Wait for the accession number of a corrected report."""
    ask(p.context, StaffInput(kind="report", event="c"))
    return p.context._(ASK), None


def _one_site(actor: Actor) -> int | None:
    """The site of a staff member held to one: their report numbers are that site's (else the
    only site's, or the core asks which)."""
    held = actor.sites or frozenset()
    return next(iter(held)) if len(held) == 1 else None


async def accession_typed(t: Typed) -> View:
    """Apply the event now, audited under this staff member."""
    event, label = KINDS.get(str(waiting(t).get("event")), KINDS["f"])
    accession = parse_accession(t.text)
    async with t.context.services.uow() as uow:
        t.actor.require_role(Role.REPORTING)
        outcome = await report_event(
            uow,
            source="staff",
            accession_number=accession,
            kind=event,
            occurred_at=t.context.services.clock.now(),
            site=_one_site(t.actor),
        )
        await audit.record(uow, t.actor, f"report.{event.value}", "report", None,
                           accession=accession, outcome=outcome.value)  # fmt: skip
        await uow.commit()
    text = t.context._(DONE[outcome]).format(accession=accession, kind=t.context._(label))
    return text, back(t.context)
