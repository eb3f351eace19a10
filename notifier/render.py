"""Rendering an outbox row in the recipient's language: chat text, SMS text, buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from clinic import notice_buttons, outbox_store, sites, sms_questions
from clinic.department_setup import department_setup
from clinic.i18n import translator
from clinic.jalali import format_date, format_datetime, format_day_short, format_time, to_tehran
from clinic.outbox import Notice
from clinic.text import to_persian_digits
from notifier.texts import BOOK_BUTTON, CHANGE_BUTTON, CONFIRM_BUTTON, SMS_INVITES, WORDING

if TYPE_CHECKING:
    from clinic.models import OutboxMessage
    from clinic.policy import Department
    from clinic.setup_views import PrepView
    from clinic.uow import UnitOfWork

SMS_STEP_KINDS = ("fasting", "water", "medication", "arrival", "other")


@dataclass(frozen=True)
class Rendered:
    """What to send: the chat text with its buttons, and the SMS text."""

    chat: str
    sms: str
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a missing placeholder shows as nothing
        return ""


def _digits(text: str, lang: str) -> str:
    return to_persian_digits(text) if lang == "fa" else text


async def render(
    uow: UnitOfWork, row: OutboxMessage, lang: str, department: Department
) -> Rendered:
    """Fill the row's wording with names, Jalali dates and codes in ``lang``."""
    _ = translator(lang).gettext
    kind = Notice(row.kind)
    values = await _values(uow, row.params, lang, department)
    wording = WORDING[kind]
    chat = _(wording.chat).format_map(values)
    sms = _(wording.sms).format_map(values)
    if uow.policy.sms_replies and kind in SMS_INVITES:  # SMS cannot carry buttons
        sms = f"{sms}\n{_(SMS_INVITES[kind])}"
    return Rendered(chat, sms, buttons(kind, row.params, _))


async def _values(
    uow: UnitOfWork, params: dict[str, Any], lang: str, department: Department
) -> _Values:
    site, sites_count = await sites.notice_site(uow, params)
    if site is not None:
        department = site.details  # the site the notice is about: its name, phone, desk
    values = _Values(
        department=department.text("name", lang),
        phone=_digits(department.phone, lang),
        where=department.text("pickup", lang),
        reason=str(
            params.get("reason") or params.get(f"reason_{lang}") or params.get("reason_fa") or ""
        ),
    )
    setup = await department_setup(uow)
    if "exam_id" in params:
        exam = setup.exams.get(params["exam_id"])
        values["exam"] = (exam.name_fa if lang == "fa" else exam.name_en) if exam else ""
    if "device_id" in params:
        device = setup.devices.get(params["device_id"])
        if device is not None:
            place = device.name_fa if lang == "fa" else device.name_en
            comma = "، " if lang == "fa" else ", "
            room = device.room_in(lang)
            values["place"] = f"{place}{comma}{room}" if room else place
            if site is not None and sites_count > 1:  # which hospital, and where it is
                address = site.details.text("address", lang)
                values["place"] += f"{comma}{site.name(lang)}"
                values["place"] += f"{comma}{address}" if address else ""
    if "starts_at" in params:
        starts = to_tehran(datetime.fromisoformat(params["starts_at"]))
        values["date"], values["time"] = (
            format_date(starts.date(), lang),
            format_time(starts, lang),
        )
    if "expires_at" in params:
        values["expires"] = format_datetime(datetime.fromisoformat(params["expires_at"]), lang)
    for key, target in (("code", "code"), ("pickup_code", "pickup")):
        if key in params:
            values[target] = _digits(str(params[key]), lang)
    if "options" in params:
        days = [format_date(datetime.fromisoformat(d).date(), lang) for d in params["options"]]
        values["options"] = "، ".join(days) if lang == "fa" else ", ".join(days)
    if "broadcast_id" in params:
        values["text"] = await outbox_store.broadcast_text(uow, params["broadcast_id"])
    if "steps" in params:
        values["steps"] = _steps(setup.preparation_steps(params["steps"]), params, lang)
    if "choices" in params:
        values["choices"] = await _choices(uow, params["choices"], lang)
    if "person_id" in params:
        kind = str(params.get("person_kind") or "health_worker")
        person = await outbox_store.colleague(uow, kind, params["person_id"])
        values["person"] = person.full_name if person else ""
    return values


async def _choices(uow: UnitOfWork, booking_ids: list[int], lang: str) -> str:
    """``۱ = علی شنبه ۸ آذر ۰۹:۰۰، ۲ = …``: whose booking each number is, and when."""
    lines = await sms_questions.choice_lines(uow, booking_ids)
    shown = [
        f"{_digits(str(n), lang)} = {name} "
        f"{format_day_short(to_tehran(starts).date(), lang)} {format_time(starts, lang)}"
        for n, (name, starts) in enumerate(lines, start=1)
    ]
    return ("، " if lang == "fa" else ", ").join(shown)


def _steps(rows: list[PrepView], params: dict[str, Any], lang: str) -> str:
    start = to_tehran(datetime.fromisoformat(params["from"])) if "from" in params else None
    prefix = f"{format_time(start, lang)}: " if start else ""
    return "\n".join(f"• {prefix}{s.text_fa if lang == 'fa' else s.text_en}" for s in rows)


def buttons(kind: Notice, params: dict[str, Any], _: Any) -> list[tuple[str, str]]:
    """The (label, callback data) buttons under a notice of ``kind`` (clinic.notice_buttons)."""
    if kind in (Notice.REFERRAL_APPROVED, Notice.CLOSURE_CANCELLED) and "referral_id" in params:
        return [(_(BOOK_BUTTON), notice_buttons.book_referral(int(params["referral_id"])))]
    if kind is Notice.WAITLIST_OFFER:
        return [(_(CONFIRM_BUTTON), notice_buttons.confirm_hold(int(params["booking_id"])))]
    if kind in (Notice.CLOSURE_MOVED, Notice.BOOKING_CONFIRMED) and "booking_id" in params:
        return [(_(CHANGE_BUTTON), notice_buttons.move_booking(int(params["booking_id"])))]
    return []
