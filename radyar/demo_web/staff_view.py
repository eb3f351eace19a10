"""The staff page of the demo, read-only: today's day list per device (as reception's bot menu
shows it) and the Ministry's e-booking share, read as the demo's reception member."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.staff.reception import person
from bot.views import MODALITY_NAMES, STATUS
from clinic import audit, booking_share
from clinic.daylist import day_list
from clinic.department_setup import department_setup
from clinic.errors import NotAllowed
from clinic.i18n import translator
from clinic.jalali import format_date, format_time, to_tehran
from clinic.models import BookingChannel, Platform, Role
from clinic.staff import staff_actor
from clinic.text import to_persian_digits
from radyar.demo_web.people import reception
from radyar.report_cmd import LABELS, TARGET_LINE

if TYPE_CHECKING:
    from radyar.app import App

LANG = "fa"
SHARE_DAYS = 7


def _percent(share: float | None) -> str:
    return "-" if share is None else to_persian_digits(f"{round(share * 100)}%")


def _digits(n: int) -> str:
    return to_persian_digits(str(n))


# What each device's list showed when it was last audited (app, device id, day).
_SHOWN: dict[tuple[int, int, date], tuple[tuple[int, str], ...]] = {}


async def staff_page(app: App) -> dict[str, Any]:
    """Today's day lists and the last week's booking share (the reads audited as the
    reception member's, as the bot audits them)."""
    _ = translator(LANG).gettext
    today = to_tehran(app.clock.now()).date()
    async with app.uow() as uow:
        actor = await staff_actor(uow, Platform.TELEGRAM, reception().user_id)
        if actor is None:
            raise NotAllowed()
        setup = await department_setup(uow)
        devices = []
        for device in setup.active_devices(actor.require_role(Role.RECEPTION).sites):
            rows = await day_list(uow, actor, device.id, today)
            # The page refreshes every few seconds: a list is a new look (audited) only when
            # what it shows changed, not at each refresh.
            shown = tuple((r.booking.id, str(r.booking.status)) for r in rows)
            if _SHOWN.get((id(app), device.id, today)) != shown:
                _SHOWN[(id(app), device.id, today)] = shown
                await audit.read(
                    uow, actor, "day_list", device.id, day=today.isoformat(), shown=len(rows),
                    via="demo_web",
                )  # fmt: skip
            devices.append(
                {
                    "device": device.name_fa,
                    "room": device.room,
                    "rows": [
                        {
                            "time": format_time(r.booking.starts_at, LANG),
                            "patient": person(r.patient),
                            "exam": setup.exam(r.booking.exam_id).name_fa,
                            "status": _(STATUS.get(r.booking.status, r.booking.status)),
                            "channel": _(LABELS.get(r.booking.channel, r.booking.channel)),
                            "code": to_persian_digits(r.booking.code),
                        }
                        for r in rows
                    ],
                }
            )
        report = await booking_share.booking_share(
            uow, today - timedelta(days=SHARE_DAYS - 1), today + timedelta(days=30)
        )
        await uow.commit()
    return {
        "day": format_date(today, LANG),
        "devices": devices,
        "share": _share(report),
    }


def _share(report: booking_share.ShareReport) -> dict[str, Any]:
    _ = translator(LANG).gettext
    channels = list(BookingChannel)
    total = report.total

    def row(r: booking_share.ShareRow, label: str) -> dict[str, Any]:
        return {
            "label": label,
            "counts": [_digits(r.by_channel.get(c, 0)) for c in channels],
            "total": _digits(r.total),
            "electronic": _digits(r.electronic),
            "share": _percent(r.share),
        }

    return {
        "from": format_date(report.first, LANG),
        "to": format_date(report.last, LANG),
        "columns": [_(LABELS[c]) for c in channels],
        "headings": {k: _(LABELS[k]) for k in ("modality", "total", "electronic", "share")},
        "rows": [
            row(r, _(MODALITY_NAMES.get(r.modality, r.modality))) for r in report.by_modality
        ],
        "total": row(total, _(LABELS["total"])),
        "summary": to_persian_digits(
            _(TARGET_LINE).format(
                share=_percent(total.share),
                total=total.total,
                target=_percent(booking_share.TARGET),
            )
        ),
    }
