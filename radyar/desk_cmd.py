"""The desk at the terminal: ``radyar pickup`` (the results desk)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from clinic.handover import HandoverCard, hand_over, look_up
from clinic.jalali import format_date, format_datetime, to_tehran
from radyar.app import build_app
from radyar.people_cmd import OPERATOR, out

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings

STATUS = {
    "pending": "not ready: the images are not ready yet",
    "images_ready": "not ready: the images are ready, the report is not final",
    "final": "final",
    "corrected": "final (corrected)",
}


def _card(card: HandoverCard) -> None:
    out(f"report {card.report_id}, accession number {card.accession_number}")
    out(f"  patient: {card.patient_name}, born {card.birth_year}")
    out(f"  national code: {card.national_code} (compare with the ID card)")
    day = format_date(to_tehran(card.exam_day).date(), "en") if card.exam_day else "-"
    out(f"  exam: {card.exam_en} ({card.exam_fa}), on {day}")
    out(f"  report: {STATUS.get(card.status, card.status)}")
    if card.collected_at is not None:
        to = "the patient" if card.collected_to == "patient" else "someone they sent"
        note = f" ({card.collected_note})" if card.collected_note else ""
        out(f"  collected {format_datetime(card.collected_at, 'en')} by {to}{note}")


async def pickup(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar pickup CODE [--collect patient|proxy --note …]``: compare the card with the
    patient's ID card before handing the report over."""
    async with build_app(settings) as app, app.uow() as uow:
        card = await look_up(uow, OPERATOR, args.code)
        await uow.commit()  # the look-up is audited even when nothing is handed over
    _card(card)
    if args.collect is None:
        if card.ready:
            out("to hand it over: radyar pickup CODE --collect patient (or proxy --note …)")
        return 0
    async with build_app(settings) as app, app.uow() as uow:
        await hand_over(uow, OPERATOR, card.report_id, to=args.collect, note=args.note or "")
        await uow.commit()
    sys.stdout.write("handed over and recorded\n")
    return 0
