"""My results: each admitted exam's report status and how to collect it, never its content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler

from bot import routes
from bot.gate import PatientMode, Press, View, patient, patient_press
from bot.handlers.booking import NEED_LOGIN
from bot.handlers.common import explain
from bot.keyboards import MY_RESULTS, main_menu, menu_filter
from bot.views import digits, name, when
from bot.whose import chosen, label_of, labelled, members, whom
from clinic.department_setup import ExamView, department_setup
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.models import Booking, Report, ReportStatus
from clinic.reports import results_for_patient
from clinic.sites import all_sites

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from clinic.actors import Actor
    from clinic.errors import ClinicError

NONE_YET = N_(
    "You have no results yet. After your exam you can see here when your report is ready to "
    "collect."
)
TITLE = N_("Your results:")
WHOSE = N_("Whose results would you like to see?")
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


async def results_text(context: BotContext, me: Actor, patient_id: int) -> str:
    """The patient's results, newest first (statuses only: never clinical content), labelled
    when a family member's. Raises NotAllowed for a patient ``me`` does not act for."""
    async with context.services.uow() as uow:
        rows = (await results_for_patient(uow, me, patient_id))[:MAX_SHOWN]
        setup = await department_setup(uow)
        desks = {s.id: s.details.text("pickup", context.lang) for s in await all_sites(uow)}
        line = await label_of(uow, context, patient_id)
    if not rows:
        return labelled(context._(NONE_YET), line)
    here = context.services.department.text("pickup", context.lang)
    entries = []
    for b, r in rows:
        device = setup.devices.get(b.device_id)
        pickup = desks.get(device.site, here) if device and device.site else here
        entries.append(_entry(context, b, setup.exams[b.exam_id], r, pickup))
    return labelled("\n\n".join([context._(TITLE), *entries]), line)


async def my_results(update: Update, context: BotContext) -> None:
    """Show each admitted exam's report status, and how to collect a ready report; first
    whose, when the account books for family members too."""
    assert update.effective_message is not None
    me = patient(context)
    if me is None or me.id is None:
        await update.effective_message.reply_text(context._(NEED_LOGIN))
        return
    family = await members(context)
    if family:
        markup = whom(context, family, routes.RESULTS_FOR)
        await update.effective_message.reply_text(context._(WHOSE), reply_markup=markup)
        return
    text = await results_text(context, me, me.id)
    await update.effective_message.reply_text(text, reply_markup=main_menu(context.lang))


async def _whose(p: Press) -> View:
    """The results of the one chosen: the holder, or a family member the account acts for."""
    pid = chosen(p.context, p.args.id(0))
    if pid is None:
        raise NotFound()
    return await results_text(p.context, p.actor, pid), None


def _failed(context: BotContext, error: ClinicError) -> View:
    return explain(error, context), None


# "Whose results?" answered (someone the account does not act for is not found).
WHOSE_RESULTS = PatientMode(failed=_failed, unregistered=NEED_LOGIN)


def results_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The results menu button, and whose results."""
    return [
        MessageHandler(menu_filter(MY_RESULTS), my_results),
        CallbackQueryHandler(
            patient_press(WHOSE_RESULTS, routes.RESULTS_FOR, _whose),
            pattern=routes.RESULTS_FOR.pattern,
        ),
    ]
