"""Texts the bot shows about exams and bookings, in the user's language, Jalali dates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from clinic import sites
from clinic.department_setup import ExamView, PrepView, department_setup
from clinic.i18n import N_
from clinic.jalali import format_date, format_time, to_tehran
from clinic.text import to_persian_digits

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from bot.context import BotContext
    from clinic.models import Booking
    from clinic.uow import UnitOfWork

MODALITY_NAMES = {
    "CT": N_("CT scan"),
    "MR": N_("MRI"),
    "CR": N_("Radiography (X-ray)"),
    "US": N_("Ultrasound"),
    "MG": N_("Mammography"),
    "RF": N_("Fluoroscopy"),
    "BMD": N_("Bone densitometry"),
}
CARD = N_(
    "{title}\n\n"
    "Exam: {exam}\n"
    "Place: {device}, {room}\n"
    "Date: {date}\n"
    "Time: {time}\n"
    "Booking code: {code}\n\n"
    "Please bring: your national card, the referral, and any previous images and reports.\n\n"
    "Preparation:\n{preparation}"
)
NO_PREPARATION = N_("No special preparation.")
STATUS = {
    "held": N_("Kept for you, not yet confirmed"),
    "confirmed": N_("Confirmed"),
    "checked_in": N_("Admitted"),
    "completed": N_("Done"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed"),
    "rescheduled": N_("Moved to another time"),
    "expired": N_("Not confirmed in time"),
}


def digits(text: str, lang: str) -> str:
    """Persian digits for ``fa``, as they are for ``en``."""
    return to_persian_digits(text) if lang == "fa" else text


class Named(Protocol):
    """Anything with a Persian and an English name (an exam, a device)."""

    @property
    def name_fa(self) -> str:
        """The Persian name."""
        ...

    @property
    def name_en(self) -> str:
        """The English name."""
        ...


def name(obj: Named, lang: str) -> str:
    """The Persian or English name of an exam or device."""
    return obj.name_fa if lang == "fa" else obj.name_en


def when(starts_at: datetime, lang: str) -> tuple[str, str]:
    """(date, time) of a booking in Tehran, Jalali for ``fa``."""
    local = to_tehran(starts_at)
    return format_date(local.date(), lang), format_time(local, lang)


def preparation_lines(steps: Sequence[PrepView], lang: str) -> list[str]:
    """One bullet per preparation step, in order."""
    return [f"• {s.text_fa if lang == 'fa' else s.text_en}" for s in steps]


async def exam_with_preparation(uow: UnitOfWork, exam_id: int) -> ExamView:
    """The exam (active or not) with its preparation steps."""
    return (await department_setup(uow)).exam(exam_id)


async def booking_card(uow: UnitOfWork, context: BotContext, booking: Booking, title: str) -> str:
    """The confirmation card: exam, place, Jalali date and time, code, what to bring, prep."""
    lang = context.lang
    exam = await exam_with_preparation(uow, booking.exam_id)
    device = (await department_setup(uow)).devices[booking.device_id]
    day, time = when(booking.starts_at, lang)
    prep = preparation_lines(exam.preparation, lang) or [context._(NO_PREPARATION)]
    room = device.room_in(lang) or "-"
    site, count = await sites.notice_site(uow, {"device_id": booking.device_id})
    if site is not None and count > 1:  # which hospital, and where it is
        comma = "، " if lang == "fa" else ", "
        address = site.details.text("address", lang)
        room = comma.join(part for part in (room, site.name(lang), address) if part)
    return context._(CARD).format(
        title=title,
        exam=name(exam, lang),
        device=name(device, lang),
        room=room,
        date=day,
        time=time,
        code=digits(booking.code, lang),
        preparation="\n".join(prep),
    )
