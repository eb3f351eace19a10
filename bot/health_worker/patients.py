"""The worker's menu, their patients, one patient's card, a booking's card and cancelling it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.handlers.common import unexpected
from bot.health_worker.common import INPUT, TO_MENU, back, my_patient
from bot.keyboards import choices, paged
from bot.views import booking_card, digits, name, when
from clinic import audit
from clinic.booking import bookings_for_patient, cancel_booking, get_booking
from clinic.department_setup import department_setup
from clinic.i18n import N_
from clinic.models import Patient, Referral, ReferralStatus, ReportStatus
from clinic.open_referrals import unbooked_referrals
from clinic.patients import patients_of_worker
from clinic.reports import results_for_patient

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import BotContext
    from bot.gate import Press, View
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

MENU = N_("Health worker menu. What would you like to do?")
REGISTER = N_("➕ Register a patient")
FIND = N_("🔎 Find one of my patients")
MY_PATIENTS = N_("👥 My patients")
NO_PATIENTS = N_("You have not registered any patients yet.")
PATIENTS = N_("Your patients:")
LINE = N_("{name}: {booking}; results: {results}")
NO_BOOKING = N_("no upcoming booking")
NEXT = N_("next on {date} at {time}")
RESULTS_NONE = N_("none yet")
RESULTS_READY = N_("{ready} of {total} ready")
CARD = N_("{name}, born {year}\n\nUpcoming bookings:\n{bookings}\n\nResults: {results}")
NONE = N_("none")
NEW_REQUEST = N_("🩻 New request")
BOOK_REFERRAL = N_("📅 Book: {exam}")
CANCEL_REQUEST = N_("❌ Cancel the request: {exam}")
REQUESTS = N_("Requests with no time yet:\n{requests}")
IN_REVIEW = N_("waiting for review")
NO_TIME = N_("no time chosen yet")
BOOKING_TITLE = N_("Booking of {name}")
CANCEL = N_("❌ Cancel")
RESCHEDULE = N_("🔁 Another time")
SURE = N_("Cancel this booking of {name}? The patient will be told by SMS.")
YES_CANCEL = N_("Yes, cancel it")
KEEP = N_("No, keep it")
CANCELLED_FOR = N_("The booking is cancelled; the patient will be told by SMS.")
TO_PATIENT = N_("‹ Back to the patient")
MORE, BACK = N_("More ›"), N_("‹ Back")
READY = (ReportStatus.FINAL, ReportStatus.CORRECTED)


def full_name(patient: Patient) -> str:
    """The patient's name as the worker knows them."""
    return f"{patient.first_name} {patient.last_name}"


def menu_view(context: BotContext) -> View:
    """The worker menu."""
    buttons = [
        (context._(REGISTER), routes.WORKER_REGISTER()),
        (context._(FIND), routes.WORKER_FIND()),
        (context._(MY_PATIENTS), routes.WORKER_PATIENTS(0)),
    ]
    return context._(MENU), choices(buttons)


async def open_menu(update: Update, context: BotContext) -> None:
    """/worker: the menu for an active worker; anyone else gets what an unknown command gets."""
    if context.visitor.worker is None:
        await unexpected(update, context)
        return
    assert update.message is not None
    context.data.pop(INPUT, None)
    text, markup = menu_view(context)
    await update.message.reply_text(text, reply_markup=markup)


async def menu(p: Press) -> View:
    """The menu again."""
    return menu_view(p.context)


async def _summary(uow: UnitOfWork, context: BotContext, worker: Actor, patient: Patient) -> str:
    upcoming = await bookings_for_patient(uow, worker, patient.id)
    booking = context._(NO_BOOKING)
    if upcoming:
        day, time = when(upcoming[0].starts_at, context.lang)
        booking = context._(NEXT).format(date=day, time=time)
    return context._(LINE).format(
        name=full_name(patient),
        booking=booking,
        results=await _results(uow, context, worker, patient.id),
    )


async def _results(uow: UnitOfWork, context: BotContext, worker: Actor, patient_id: int) -> str:
    rows = await results_for_patient(uow, worker, patient_id)
    if not rows:
        return context._(RESULTS_NONE)
    ready = sum(1 for _, report in rows if report is not None and report.status in READY)
    lang = context.lang
    return context._(RESULTS_READY).format(
        ready=digits(str(ready), lang), total=digits(str(len(rows)), lang)
    )


async def patient_list(p: Press) -> View:
    """The worker's patients, a page at a time, with the next booking and result status."""
    context, page = p.context, p.args.page(0)
    async with context.services.uow() as uow:
        patients = await patients_of_worker(uow, p.actor)
        size = 8
        page = min(page, max(0, (len(patients) - 1) // size))
        lines = [
            await _summary(uow, context, p.actor, patient)
            for patient in patients[page * size : (page + 1) * size]
        ]
    if not patients:
        return context._(NO_PATIENTS), back(
            context, (context._(REGISTER), routes.WORKER_REGISTER())
        )
    items = [(full_name(patient), routes.WORKER_PATIENT(patient.id)) for patient in patients]
    markup = paged(
        items,
        page,
        routes.WORKER_PATIENTS,
        more=context._(MORE),
        back=context._(BACK),
        size=size,
        extra=[(context._(TO_MENU), routes.WORKER_MENU())],
    )
    return "\n".join([context._(PATIENTS), *lines]), markup


async def patient_card(p: Press) -> View:
    """One of the worker's patients: upcoming bookings, results, what can be done next."""
    return await card_view(p.context, p.actor, p.args.id(0))


async def card_view(context: BotContext, worker: Actor, patient_id: int | None) -> View:
    """The patient's card (NotFound for anyone else's patient)."""
    lang = context.lang
    async with context.services.uow() as uow:
        patient = await my_patient(uow, worker, patient_id)
        upcoming = await bookings_for_patient(uow, worker, patient.id)
        results = await _results(uow, context, worker, patient.id)
        exams = await _exam_names(uow, [b.exam_id for b in upcoming], lang)
        waiting = await unbooked_referrals(uow, worker, patient.id)
        exams |= await _exam_names(uow, [r.exam_id for r in waiting], lang)
        await audit.read(uow, worker, "patient", patient.id, via="card")
        await uow.commit()
    lines = [f"• {exams[b.exam_id]}: {' '.join(when(b.starts_at, lang))}" for b in upcoming]
    text = context._(CARD).format(
        name=full_name(patient),
        year=digits(str(patient.birth_year), lang),
        bookings="\n".join(lines) or context._(NONE),
        results=results,
    )
    if waiting:
        text += "\n\n" + _requests(context, waiting, exams)
    buttons = [(f"📅 {exams[b.exam_id]}", routes.WORKER_BOOKING(b.id)) for b in upcoming]
    buttons += _request_buttons(context, waiting, exams)
    buttons.append((context._(NEW_REQUEST), routes.WORKER_REQUEST(patient.id)))
    return text, back(context, *buttons, (context._(MY_PATIENTS), routes.WORKER_PATIENTS(0)))


def _request_buttons(
    context: BotContext, waiting: list[Referral], exams: dict[int, str]
) -> list[tuple[str, str]]:
    """Book an approved request; cancel any open one the patient no longer needs."""
    buttons = []
    for r in waiting:
        exam = exams[r.exam_id]
        if r.status == ReferralStatus.APPROVED:
            buttons.append(
                (context._(BOOK_REFERRAL).format(exam=exam), routes.WORKER_DAYS("ref", r.id, 0))
            )
        buttons.append((context._(CANCEL_REQUEST).format(exam=exam), routes.WORKER_WITHDRAW(r.id)))
    return buttons


def _requests(context: BotContext, waiting: list[Referral], exams: dict[int, str]) -> str:
    """The patient's open requests with no time yet (they count towards the caps)."""
    lines = [
        f"• {exams[r.exam_id]}: "
        + context._(IN_REVIEW if r.status == ReferralStatus.SUBMITTED else NO_TIME)
        for r in waiting
    ]
    return context._(REQUESTS).format(requests="\n".join(lines))


async def _exam_names(uow: UnitOfWork, ids: list[int], lang: str) -> dict[int, str]:
    exams = (await department_setup(uow)).exams
    return {i: name(exams[i], lang) for i in ids}


async def booking_view(p: Press) -> View:
    """One booking of the worker's patient, with cancel and another-time buttons."""
    context, booking_id = p.context, p.args.id(0)
    async with context.services.uow() as uow:
        booking = await get_booking(uow, p.actor, booking_id)
        patient = await my_patient(uow, p.actor, booking.patient_id)
        title = context._(BOOKING_TITLE).format(name=full_name(patient))
        card = await booking_card(uow, context, booking, title)
        await audit.read(uow, p.actor, "patient", patient.id, via="booking", booking=booking.id)
        await uow.commit()
    buttons = [
        (context._(CANCEL), routes.WORKER_CANCEL(booking.id)),
        (context._(RESCHEDULE), routes.WORKER_DAYS("bk", booking.id, 0)),
        (context._(TO_PATIENT), routes.WORKER_PATIENT(booking.patient_id)),
    ]
    return card, choices(buttons)


async def cancel_ask(p: Press) -> View:
    """Ask before cancelling."""
    context, booking_id = p.context, p.args.id(0)
    async with context.services.uow() as uow:
        booking = await get_booking(uow, p.actor, booking_id)
        patient = await my_patient(uow, p.actor, booking.patient_id)
    buttons = [
        (context._(YES_CANCEL), routes.WORKER_CANCEL_CONFIRMED(booking.id)),
        (context._(KEEP), routes.WORKER_BOOKING(booking.id)),
    ]
    return context._(SURE).format(name=full_name(patient)), choices(buttons, columns=2)


async def cancel(p: Press) -> View:
    """Cancel the booking as the worker (the use case checks the patient is theirs)."""
    context, booking_id = p.context, p.args.id(0)
    async with context.services.uow() as uow:
        booking = await cancel_booking(uow, p.actor, booking_id, reason="health_worker")
        await uow.commit()
    return context._(CANCELLED_FOR), back(
        context, (context._(TO_PATIENT), routes.WORKER_PATIENT(booking.patient_id))
    )
