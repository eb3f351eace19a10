"""The results desk: reception types the patient's pickup code, sees whose report it is (to
compare with their ID card) and records who collected it (``clinic.handover``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff.common import TO_MENU, ask, back, waiting
from bot.views import digits
from clinic.errors import ClinicError
from clinic.handover import PickupPaused, hand_over, look_up
from clinic.i18n import N_
from clinic.jalali import format_date, format_datetime, to_tehran
from clinic.models import ReportStatus

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.handover import HandoverCard

ASK_CODE = N_("Please type the pickup code the patient was sent with their result.")
CARD = N_(
    "Report for this pickup code\nPatient: {patient}\nBorn: {year}\n"
    "National code: {national_code} (please compare it with the ID card)\n"
    "Exam: {exam}\nExam day: {day}\nReport: {status}"
)
STATUSES = {
    ReportStatus.PENDING: N_("not ready yet"),
    ReportStatus.IMAGES_READY: N_("images ready, the report is not final yet"),
    ReportStatus.FINAL: N_("final, ready to hand over"),
    ReportStatus.CORRECTED: N_("corrected, ready to hand over"),
}
COLLECTED = N_("Already collected {when} by {whom}.")
WHOM = {"patient": N_("the patient"), "proxy": N_("someone the patient sent")}
TO_PATIENT, TO_PROXY = N_("✅ Hand over to the patient"), N_("👥 To someone they sent")
ASK_NOTE = N_(
    "Who is collecting it for the patient? Please type their name, how they are related to "
    "the patient, and the ID they showed."
)
HANDED = N_("Recorded: the report was handed over to {whom}.")
ANOTHER = N_("🔎 Another pickup code")


async def pickup_ask(p: Press) -> View:
    """Wait for a pickup code."""
    ask(p.context, StaffInput(kind="pickup"))
    return p.context._(ASK_CODE), back(p.context)


async def pickup_typed(t: Typed) -> View:
    """The report behind the code typed; a code that matches nothing says only that (and may
    be typed again), until too many did. Every look-up is kept in the audit log, found or not,
    and every code that matched nothing is counted."""
    async with t.context.services.uow() as uow:
        try:
            card = await look_up(uow, t.actor, t.text)
        except ClinicError as error:
            await uow.commit()  # the look-up's audit entry and its count stay
            if isinstance(error, PickupPaused):
                until = format_datetime(error.until, t.context.lang)
                return t.context._(error.message).format(until=until), back(t.context)
            raise
        await uow.commit()
    return card_view(t.context, card)


def card_view(context: BotContext, card: HandoverCard) -> View:
    """The report's card, with the handover buttons while it may be handed over."""
    _, lang = context._, context.lang
    text = _(CARD).format(
        patient=card.patient_name,
        year=digits(str(card.birth_year), lang),
        national_code=digits(card.national_code, lang),
        exam=card.exam_fa if lang == "fa" else card.exam_en,
        day=format_date(to_tehran(card.exam_day).date(), lang) if card.exam_day else "-",
        status=_(STATUSES.get(card.status, card.status)),
    )
    if card.collected_at is not None:
        whom = _(WHOM.get(card.collected_to or "", WHOM["patient"]))
        if card.collected_note:
            whom = f"{whom} ({card.collected_note})"
        text += "\n\n" + _(COLLECTED).format(
            when=format_datetime(card.collected_at, lang), whom=whom
        )
    items = []
    if card.ready:
        items = [
            (_(TO_PATIENT), routes.HANDOVER_PATIENT(card.report_id)),
            (_(TO_PROXY), routes.HANDOVER_PROXY(card.report_id)),
        ]
    return text, choices(
        items, extra=[(_(ANOTHER), routes.PICKUP()), (_(TO_MENU), routes.STAFF_MENU())]
    )


def _handed(context: BotContext, to: str) -> View:
    text = context._(HANDED).format(whom=context._(WHOM[to]))
    return text, back(context, (context._(ANOTHER), routes.PICKUP()))


async def to_patient(p: Press) -> View:
    """The patient collects the report themself."""
    async with p.context.services.uow() as uow:
        await hand_over(uow, p.actor, p.args.id(0), to="patient")
        await uow.commit()
    return _handed(p.context, "patient")


async def proxy_ask(p: Press) -> View:
    """Someone the patient sent: wait for the note (who, which ID)."""
    ask(p.context, StaffInput(kind="proxy_note", report=p.args.id(0)))
    return p.context._(ASK_NOTE), back(p.context)


async def proxy_typed(t: Typed) -> View:
    """Record the handover to the person the note names (an empty note: type it again)."""
    async with t.context.services.uow() as uow:
        await hand_over(uow, t.actor, waiting(t)["report"], to="proxy", note=t.text)
        await uow.commit()
    return _handed(t.context, "proxy")
