"""Reception: the day list per device, admission (پذیرش), no-shows, finding a booking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff.common import (
    TO_MENU,
    ask,
    back,
    device_labels,
    device_of_today,
    today_in_tehran,
    waiting,
)
from bot.staff.reception import person
from bot.views import STATUS, digits, name, when
from clinic import audit
from clinic.booking import bookings_for_patient, cancel_booking, find_by_code, get_booking
from clinic.daylist import check_in, day_list, mark_no_show
from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.jalali import format_date, format_time
from clinic.models import Booking, BookingStatus, Role
from clinic.patients import find_by_national_code, get_patient
from clinic.sms_questions import attendance_confirmed
from clinic.text import digits_only

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor

CHOOSE_DEVICE = N_("Which device?")
DAY_LIST = N_("{device}, {date}: {n} appointments. Choose one to admit it or mark it missed.")
BOOKING = N_(
    "Appointment {code} ({status})\nPatient: {patient}\nExam: {exam}\nPlace: {device}\n"
    "Date: {date}\nTime: {time}"
)
CHECK_IN, WITH_ACCESSION = N_("✅ Admit"), N_("🔢 Admit with accession number")
NO_SHOW, CANCEL = N_("🚫 Did not come"), N_("❌ Cancel the appointment")
TO_LIST = N_("‹ Day list")
QUEUE = N_("🚶 Walk-in queue")
ASK_ACCESSION = N_("Please type the HIS accession number for this admission.")
SURE_CANCEL = N_("Cancel this appointment? The patient will be told.")
YES_CANCEL, KEEP = N_("Yes, cancel it"), N_("No, keep it")
ASK_FIND = N_("Please type the booking code or the patient's national code.")
FOUND = N_("The patient's upcoming appointments:")
NONE_FOUND = N_("This patient has no upcoming appointments.")


COMING = N_("✅ coming (SMS)")  # the patient answered the reminder "1" by SMS


async def devices(p: Press) -> View:
    """Choose the device whose list to see."""
    async with p.context.services.uow() as uow:
        rows = (await department_setup(uow)).active_devices(
            p.actor.require_role(Role.RECEPTION).sites
        )
        labels = await device_labels(uow, rows, p.context.lang)
        items = [(label, routes.DAY_LIST(d.id)) for d, label in labels]
    extra = [(p.context._(TO_MENU), routes.STAFF_MENU())]
    return p.context._(CHOOSE_DEVICE), choices(items, columns=2, extra=extra)


async def day(p: Press) -> View:
    """Today's appointments on one device, a button each."""
    device_id, context = p.args.id(0), p.context
    today = today_in_tehran(context)
    async with context.services.uow() as uow:
        device = await device_of_today(uow, device_id)
        rows = await day_list(uow, p.actor, device_id, today)
        coming = await attendance_confirmed(uow, [r.booking.id for r in rows])
        await audit.read(
            uow, p.actor, "day_list", device_id, day=today.isoformat(), shown=len(rows)
        )
        await uow.commit()
    # The walk-in queue of the day, once it has a ticket (walk-ins are on the list too).
    tickets = any(r.booking.ticket is not None for r in rows)
    queue = [(context._(QUEUE), routes.QUEUE(device_id))] if tickets else []
    said = f" · {context._(COMING)}"
    items = [
        (f"{format_time(r.booking.starts_at, context.lang)} · {person(r.patient)} · "
         f"{context._(STATUS.get(r.booking.status, r.booking.status))}"
         f"{said if r.booking.id in coming else ''}",
         routes.STAFF_BOOKING(r.booking.id))
        for r in rows
    ]  # fmt: skip
    text = context._(DAY_LIST).format(
        device=name(device, context.lang),
        date=format_date(today, context.lang),
        n=digits(str(len(rows)), context.lang),
    )
    extra = [*queue, (context._(TO_LIST), routes.DAY_DEVICES())]
    return text, choices(items, extra=extra)


async def booking_view(context: BotContext, actor: Actor, booking_id: int) -> View:
    """A booking as reception sees it, with what can be done with it."""
    async with context.services.uow() as uow:
        booking = await get_booking(uow, actor, booking_id)
        patient = await get_patient(uow, booking.patient_id)
        setup = await department_setup(uow)
        await audit.read(uow, actor, "patient", patient.id, via="booking", booking=booking.id)
        await uow.commit()
        exam, device = setup.exam(booking.exam_id), setup.devices[booking.device_id]
    day_text, time_text = when(booking.starts_at, context.lang)
    text = context._(BOOKING).format(
        code=digits(booking.code, context.lang),
        status=context._(STATUS.get(booking.status, booking.status)),
        patient=person(patient),
        exam=name(exam, context.lang),
        device=name(device, context.lang),
        date=day_text,
        time=time_text,
    )
    return text, _booking_buttons(context, booking)


def _booking_buttons(context: BotContext, booking: Booking) -> InlineKeyboardMarkup:
    _, bid = context._, booking.id
    items: list[tuple[str, str]] = []
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN):
        items.append((_(CHECK_IN), routes.ADMIT(bid)))
        items.append((_(WITH_ACCESSION), routes.ADMIT_ACCESSION(bid)))
    if booking.status == BookingStatus.CONFIRMED:
        items += [(_(NO_SHOW), routes.NO_SHOW(bid)), (_(CANCEL), routes.STAFF_CANCEL(bid))]
    return choices(items, extra=[(_(TO_LIST), routes.DAY_LIST(booking.device_id))])


async def booking(p: Press) -> View:
    """One appointment from the day list or a search."""
    return await booking_view(p.context, p.actor, p.args.id(0))


async def admit(p: Press) -> View:
    """Admit the patient (پذیرش) without an accession number."""
    booking_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await check_in(uow, p.actor, booking_id)
        await uow.commit()
    return await booking_view(p.context, p.actor, booking_id)


async def admit_ask(p: Press) -> View:
    """Wait for the accession number."""
    ask(p.context, StaffInput(kind="accession", booking=p.args.id(0)))
    return p.context._(ASK_ACCESSION), None


async def admit_typed(t: Typed) -> View:
    """Admit with the typed accession number (Persian digits fine)."""
    booking_id = waiting(t)["booking"]
    async with t.context.services.uow() as uow:
        await check_in(uow, t.actor, booking_id, accession_number=t.text)
        await uow.commit()
    return await booking_view(t.context, t.actor, booking_id)


async def no_show(p: Press) -> View:
    """The patient did not come."""
    booking_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await mark_no_show(uow, p.actor, booking_id)
        await uow.commit()
    return await booking_view(p.context, p.actor, booking_id)


async def cancel_ask(p: Press) -> View:
    """Ask before cancelling for the patient."""
    booking_id, _ = p.args.id(0), p.context._
    items = [
        (_(YES_CANCEL), routes.STAFF_CANCEL_CONFIRMED(booking_id)),
        (_(KEEP), routes.STAFF_BOOKING(booking_id)),
    ]
    return _(SURE_CANCEL), choices(items, columns=2)


async def cancel(p: Press) -> View:
    """Cancel as staff (any time; the patient is told)."""
    booking_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await cancel_booking(uow, p.actor, booking_id, reason="staff")
        await uow.commit()
    return await booking_view(p.context, p.actor, booking_id)


async def find_ask(p: Press) -> View:
    """Wait for a booking code or a national code."""
    ask(p.context, StaffInput(kind="find"))
    return p.context._(ASK_FIND), None


async def find_typed(t: Typed) -> View:
    """A national code lists the patient's appointments; anything else is a booking code."""
    context = t.context
    plain = digits_only(t.text) or ""
    async with context.services.uow() as uow:
        if len(plain) == 10:
            patient = await find_by_national_code(uow, plain)
            if patient is None:
                raise NotFound()
            found = await bookings_for_patient(uow, t.actor, patient.id)
            await audit.read(uow, t.actor, "patient", patient.id, via="find", shown=len(found))
            await uow.commit()
        else:
            found = [await find_by_code(uow, t.actor, t.text)]
    if len(found) == 1:
        return await booking_view(context, t.actor, found[0].id)
    items = [
        (" ".join(when(b.starts_at, context.lang)), routes.STAFF_BOOKING(b.id)) for b in found
    ]
    return context._(FOUND if items else NONE_FOUND), back(context, *items)
