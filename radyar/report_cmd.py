"""``radyar report bookings``: the Ministry's e-booking share, per day and modality."""

from __future__ import annotations

import csv
import io
import sys
from typing import TYPE_CHECKING

from clinic import sites
from clinic.booking_share import MAX_DAYS, TARGET, ShareReport, ShareRow, booking_share
from clinic.errors import InvalidInput, NotFound
from clinic.i18n import N_, translator
from clinic.jalali import jalali_iso, parse_jalali_date
from clinic.models import BookingChannel
from clinic.text import to_persian_digits
from radyar.app import build_app

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings

CHANNELS = tuple(BookingChannel)
LABELS = {
    "day": N_("Day"),
    "modality": N_("Modality"),
    BookingChannel.CHAT: N_("In chat"),
    BookingChannel.HEALTH_WORKER: N_("Health worker"),
    BookingChannel.DESK: N_("Desk"),
    BookingChannel.PHONE: N_("Phone"),
    BookingChannel.WALK_IN: N_("Walk-in"),
    "total": N_("Total"),
    "electronic": N_("Electronic"),
    "share": N_("Share"),
}
ALL_DAYS = N_("All days")
ALL_MODALITIES = N_("All")
TARGET_LINE = N_("Booked electronically: {share} of {total} (the Ministry's target: {target})")
SITE_LINE = N_("{site}: {share} of {total} booked electronically")


async def report_bookings(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar report bookings --from --to [--csv] [--lang fa]``."""
    lang = args.lang or settings.language
    first, last = parse_jalali_date(args.start), parse_jalali_date(args.end)
    if last < first:
        raise InvalidInput(N_("The end date must not be before the start date."))
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(N_("A report covers at most {days} days."), days=MAX_DAYS)
    async with build_app(settings) as app, app.uow() as uow:
        known = await sites.all_sites(uow)
        chosen = [s for s in known if args.site is None or s.key == args.site]
        if args.site is not None and not chosen:
            raise NotFound(N_("There is no site {site}."), site=args.site)
        wanted = {s.id for s in chosen} if args.site is not None else None
        report = await booking_share(uow, first, last, site_ids=wanted)
    names = {s.id: s.name(lang) for s in known}
    text = _csv(report, names) if args.csv else _table(report, lang, names)
    sys.stdout.write(text)
    return 0


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def _cells(row: ShareRow) -> list[str]:
    counts = [str(row.by_channel.get(c, 0)) for c in CHANNELS]
    return [*counts, str(row.total), str(row.electronic), _percent(row.share)]


def _csv(report: ShareReport, names: dict[int, str]) -> str:
    """Machine-readable: ISO Jalali days, DICOM modality codes, channel codes, ASCII digits."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["day", "modality", *CHANNELS, "total", "electronic", "share"])
    for row in report.rows:
        assert row.day is not None
        writer.writerow([jalali_iso(row.day), row.modality, *_cells(row)])
    for row in report.by_modality:
        writer.writerow(["all", row.modality, *_cells(row)])
    writer.writerow(["all", "all", *_cells(report.total)])
    if len(names) > 1:
        for site, row in report.by_site.items():
            writer.writerow([f"site:{names.get(site, site)}", "all", *_cells(row)])
    return buffer.getvalue()


def _table(report: ShareReport, lang: str, names: dict[int, str]) -> str:
    _ = translator(lang).gettext
    head = [_(LABELS[k]) for k in ("day", "modality", *CHANNELS, "total", "electronic", "share")]
    body = [[jalali_iso(r.day) if r.day else "", r.modality, *_cells(r)] for r in report.rows]
    body += [[_(ALL_DAYS), r.modality, *_cells(r)] for r in report.by_modality]
    body.append([_(ALL_DAYS), _(ALL_MODALITIES), *_cells(report.total)])
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in (head, *body)]  # fmt: skip
    total = report.total
    lines.append(
        _(TARGET_LINE).format(
            share=_percent(total.share), total=total.total, target=_percent(TARGET)
        )
    )
    if len(names) > 1:
        for site, row in report.by_site.items():
            share = _percent(row.share)
            lines.append(
                _(SITE_LINE).format(site=names.get(site, "-"), share=share, total=row.total)
            )
    text = "\n".join(lines) + "\n"
    return to_persian_digits(text) if lang == "fa" else text
