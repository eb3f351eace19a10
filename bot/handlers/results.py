"""My results: each admitted exam's report status and how to collect it, never its content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import BaseHandler, MessageHandler

from bot.handlers.booking import NEED_LOGIN
from bot.keyboards import MY_RESULTS, main_menu, menu_filter
from bot.views import digits, name, when
from clinic.actors import Actor
from clinic.department_setup import ExamView, department_setup
from clinic.i18n import N_
from clinic.models import Booking, Report, ReportStatus
from clinic.reports import results_for_patient
from clinic.sites import all_sites

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext

NONE_YET = N_(
    "You have no results yet. After your exam you can see here when your report is ready to "
    "collect."
)
TITLE = N_("Your results:")
ENTRY = N_("{exam}\nDate: {date}\nStatus: {status}")
COLLECT = N_("Pickup code: {code}\nWhere and when: {pickup}\nPlease bring your national card.")
STATUS = {
    ReportStatus.PENDING: N_("Waiting: the images and the report are being prepared"),
    ReportStatus.IMAGES_READY: N_("Images ready; the report is not ready yet"),
    ReportStatus.FINAL: N_("Report ready to collect"),
    ReportStatus.CORRECTED: N_("Corrected report ready to collect"),
}
READY = (ReportStatus.FINAL, ReportStatus.CORRECTED)
MAX_SHOWN = 10


def _entry(
    context: BotContext, booking: Booking, exam: ExamView, report: Report | None, pickup: str
) -> str:
    """One exam: its name, date and status in words; the pickup code once the report is ready."""
    lang = context.lang
    status = report.status if report else ReportStatus.PENDING
    day, _ = when(booking.starts_at, lang)
    said = context._(STATUS[status])
    text = context._(ENTRY).format(exam=name(exam, lang), date=day, status=said)
    if report is None or status not in READY:
        return text
    code = digits(report.pickup_code, lang)
    return text + "\n" + context._(COLLECT).format(code=code, pickup=pickup)


async def results_text(context: BotContext, patient_id: int) -> str:
    """The patient's results, newest first (statuses only: never clinical content)."""
    async with context.services.uow() as uow:
        rows = (await results_for_patient(uow, Actor.patient(patient_id), patient_id))[:MAX_SHOWN]
        setup = await department_setup(uow)
        desks = {s.id: s.details.text("pickup", context.lang) for s in await all_sites(uow)}
    if not rows:
        return context._(NONE_YET)
    here = context.services.department.text("pickup", context.lang)
    entries = []
    for b, r in rows:
        device = setup.devices.get(b.device_id)
        pickup = desks.get(device.site, here) if device and device.site else here
        entries.append(_entry(context, b, setup.exams[b.exam_id], r, pickup))
    return "\n\n".join([context._(TITLE), *entries])


async def my_results(update: Update, context: BotContext) -> None:
    """Show each admitted exam's report status, and how to collect a ready report."""
    assert update.effective_message is not None
    pid = context.visitor.patient_id
    if pid is None:
        await update.effective_message.reply_text(context._(NEED_LOGIN))
        return
    text = await results_text(context, pid)
    await update.effective_message.reply_text(text, reply_markup=main_menu(context.lang))


def results_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The results menu button."""
    return [MessageHandler(menu_filter(MY_RESULTS), my_results)]
