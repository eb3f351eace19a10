"""Reporting: mark a report final or corrected by accession number (no HIS integration)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff.common import TO_MENU, ask, back, waiting
from bot.views import digits
from clinic import audit
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.models import Role
from clinic.reports import Outcome, ReportEvent, parse_accession, report_event
from clinic.sites import all_sites, may_act_at, require_site

if TYPE_CHECKING:
    from bot.gate import Press, Typed, View

ASK = N_("Please type the accession number of the report.")
WHOSE = N_("Which hospital's report is it? Each hospital's RIS numbers its own.")
DONE = {
    Outcome.APPLIED: N_("Report {accession} is marked {kind}; the patient will be told."),
    Outcome.DUPLICATE: N_("Report {accession} was already marked {kind}; nothing changed."),
    Outcome.UNMATCHED: N_(
        "No admitted appointment has accession number {accession} yet; the event is kept and "
        "applied when reception records that number."
    ),
}
KINDS = {"f": (ReportEvent.FINAL, N_("final")), "c": (ReportEvent.CORRECTED, N_("corrected"))}
CORRECTED = N_(
    "Report {accession} is marked corrected. The patient is told of at most {n} corrections "
    "of one report a day; past that the report is updated, but nobody is told."
)


async def final_ask(p: Press) -> View:
    """Wait for the accession number of a final report (first, whose, where it may be one of
    several sites': each hospital's RIS numbers its own)."""
    return await _ask(p, "f")


async def corrected_ask(p: Press) -> View:
    """Wait for the accession number of a corrected report (first, whose: as above)."""
    return await _ask(p, "c")


async def _ask(p: Press, event: str) -> View:
    actor = p.actor.require_role(Role.REPORTING)
    async with p.context.services.uow().reading() as uow:
        mine = [s for s in await all_sites(uow) if may_act_at(actor, s.id)]
    if len(mine) > 1:
        lang = p.context.lang
        items = [(s.name(lang), routes.REPORT_SITE(event, s.id)) for s in mine]
        return p.context._(WHOSE), choices(
            items, extra=[(p.context._(TO_MENU), routes.STAFF_MENU())]
        )
    state = StaffInput(kind="report", event=event)
    if mine:
        state["site"] = mine[0].id
    ask(p.context, state)
    return p.context._(ASK), None


async def site_chosen(p: Press) -> View:
    """The site whose report it is; then its accession number (another's site: not found)."""
    event, site = p.args.word(0), p.args.id(1)
    if event not in KINDS:
        raise NotFound()
    require_site(p.actor.require_role(Role.REPORTING), site)
    ask(p.context, StaffInput(kind="report", event=event, site=site))
    return p.context._(ASK), None


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
            site=waiting(t).get("site"),
        )
        await audit.record(uow, t.actor, f"report.{event.value}", "report", None,
                           accession=accession, outcome=outcome.value)  # fmt: skip
        await uow.commit()
        per_day = uow.policy.report_corrections_per_day
    if event is ReportEvent.CORRECTED and outcome is Outcome.APPLIED:
        n = digits(str(per_day), t.context.lang)
        return t.context._(CORRECTED).format(accession=accession, n=n), back(t.context)
    text = t.context._(DONE[outcome]).format(accession=accession, kind=t.context._(label))
    return text, back(t.context)
