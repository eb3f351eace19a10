"""The desk at the terminal: ``radyar book`` (desk and phone bookings) and ``radyar pickup``
(the results desk)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

from clinic.department_setup import department_setup
from clinic.desk import DeskRequest, MissingAnswers, book_at_desk, questions_for_patient
from clinic.errors import ClinicError, InvalidInput, NotFound
from clinic.handover import HandoverCard, hand_over, look_up
from clinic.i18n import N_
from clinic.jalali import format_date, format_datetime, to_tehran
from clinic.models import BookingChannel, Keep
from clinic.text import normalize_digits
from clinic.walk_ins import WalkInRequest, issue_ticket, queue
from radyar.app import App, build_app
from radyar.commands import parse_moment
from radyar.people_cmd import OPERATOR, out

T = TypeVar("T")

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from clinic.uow import UnitOfWork
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
        try:
            card = await look_up(uow, OPERATOR, args.code)
        except ClinicError:  # audited, and a code that matched nothing counted, all the same
            await uow.commit()
            raise
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


YES = ("yes", "y", "true", "1", "بله", "آری")
NO = ("no", "n", "false", "0", "خیر", "نه")


def parse_answers(raw: list[str] | None) -> dict[str, bool]:
    """``--answer pregnancy=no`` (repeatable) as question code to yes/no."""
    answers: dict[str, bool] = {}
    for item in raw or ():
        code, _, value = normalize_digits(item).partition("=")
        word = value.strip().lower()
        if not code.strip() or word not in (*YES, *NO):
            raise InvalidInput(N_("Write each answer like pregnancy=no or pacemaker=yes."))
        answers[code.strip().lower()] = word in YES
    return answers


async def book(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar book``: reception books for a patient (at the desk, or ``--phone``)."""
    request = DeskRequest(
        national_code=args.national_code,
        exam_code=args.exam,
        insurer=args.insurer,
        answers=parse_answers(args.answer),
        tracking_code=args.tracking_code,
        starts_at=parse_moment(args.at) if args.at else None,
        device_code=args.device,
        channel=BookingChannel.PHONE if args.phone else BookingChannel.DESK,
        keep=Keep(args.for_) if args.for_ else None,
    )
    async with build_app(settings) as app:
        booking = await _asked_first(app, args, lambda uow: book_at_desk(uow, OPERATOR, request))
        if booking is None:
            return 2
        async with app.uow() as uow:
            setup = await department_setup(uow)
    device = setup.devices[booking.device_id]
    exam = setup.exams[booking.exam_id]
    out(f"booked: code {booking.code}, {exam.name_en}")
    out(f"  {format_datetime(booking.starts_at, 'en')}, {device.name_en} ({device.room_in('en')})")
    made = "on the phone" if args.phone else "at the desk"
    out(f"  made {made}; the patient is sent the confirmation (chat, or SMS)")
    return 0


async def _asked_first(
    app: App, args: argparse.Namespace, act: Callable[[UnitOfWork], Awaitable[T]]
) -> T | None:
    """``act`` in a unit of work, committed; None (the questions listed) when a safety answer
    is missing."""
    try:
        async with app.uow() as uow:
            done = await act(uow)
            await uow.commit()
    except MissingAnswers:
        await _ask_first(app, args)
        return None
    return done


async def _ask_first(app: App, args: argparse.Namespace) -> None:
    async with app.uow() as uow:
        asked = await questions_for_patient(uow, args.national_code, args.exam)
    sys.stderr.write("radyar: ask the patient first, then add --answer CODE=yes|no:\n")
    for question in asked:
        sys.stderr.write(f"  {question.code}: {question.text_en} ({question.text_fa})\n")


async def walk_in_ticket(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar walk-in ticket``: a numbered place in today's queue for a walk-in exam."""
    request = WalkInRequest(
        national_code=args.national_code,
        exam_code=args.exam,
        insurer=args.insurer,
        answers=parse_answers(args.answer),
        tracking_code=args.tracking_code,
        device_code=args.device,
    )
    async with build_app(settings) as app:
        ticket = await _asked_first(app, args, lambda uow: issue_ticket(uow, OPERATOR, request))
        if ticket is None:
            return 2
        async with app.uow() as uow:
            device = (await department_setup(uow)).devices[ticket.device_id]
    out(f"ticket {ticket.number} for {device.name_en} ({device.room_in('en')})")
    out(f"  {ticket.ahead} ahead in the queue")
    return 0


async def walk_in_queue(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar walk-in queue --device CODE``: today's tickets in number order."""
    async with build_app(settings) as app, app.uow() as uow:
        device = (await department_setup(uow)).device_by_code(args.device.upper())
        if device is None:
            raise NotFound(N_("There is no device with the code {code}."), code=args.device)
        rows = await queue(uow, OPERATOR, device.id, to_tehran(app.clock.now()).date())
    if not rows:
        out(f"no walk-ins on {device.code} today")
    for row in rows:
        out(f"{row.number:>4}  {row.status:<11} {row.patient_name}")
    return 0
