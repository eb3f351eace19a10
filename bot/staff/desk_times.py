"""Reception's desk booking, its last steps: at the desk or on the phone (an urgent case or an
inpatient may use the places kept back for them), then the first free time or a day and time
chosen, booked and confirmed at once through ``clinic.desk.book_at_desk``: the card."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import DESK
from bot.handlers.common import explain
from bot.keyboards import choices, paged
from bot.staff.common import TO_MENU
from bot.staff.desk_draft import STALE, asked, draft, patient_line
from bot.views import digits, name, when
from clinic.availability import today
from clinic.department_setup import department_setup
from clinic.desk import DeskRequest, book_at_desk, desk_times
from clinic.errors import NotFound, SlotFull, SlotUnavailable
from clinic.i18n import N_
from clinic.jalali import format_day_short, format_time, to_tehran
from clinic.models import BookingChannel, Keep, Role
from clinic.patients import get_patient

if TYPE_CHECKING:
    from datetime import date, datetime

    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import DeskDraft
    from bot.gate import Press, View
    from clinic.actors import Actor
    from clinic.availability import BookableTime
    from clinic.uow import UnitOfWork

CHOOSE_CHANNEL = N_("How is this booking made?")
CHANNELS = {
    "desk": N_("🧍 At the desk"),
    "phone": N_("☎️ On the phone"),
    "urgent": N_("🚑 Urgent case"),
    "inpatient": N_("🛏 Inpatient (from a ward)"),
}
_CHANNEL = {
    "desk": (BookingChannel.DESK, None),
    "phone": (BookingChannel.PHONE, None),
    "urgent": (BookingChannel.DESK, Keep.URGENT),
    "inpatient": (BookingChannel.DESK, Keep.INPATIENT),
}
CHOOSE_WHEN = N_("When? The first free time, or a day and time you choose with the patient.")
FIRST, PICK_DAY = N_("⏱ First free time"), N_("📅 Choose a day and time")
CHOOSE_DAY = N_("Please choose a day (the number of free places is in brackets):")
CHOOSE_TIME = N_("Please choose a time on {day}:")
NO_DAYS = N_("There are no free places for this exam in the coming {days} days.")
NO_TIMES = N_("That day has just filled up. Please choose another day.")
MORE, EARLIER = N_("More days ›"), N_("‹ Earlier days")
LATER_TIMES, EARLIER_TIMES = N_("Later times ›"), N_("‹ Earlier times")
TO_DAYS = N_("‹ Days")
BOOKED = N_(
    "✅ Booked for the patient.\n{patient}\nExam: {exam}\nDate: {date}\nTime: {time}\n"
    "Place: {device}, {room}\nBooking code: {code}\n\n"
    "The patient is sent the confirmation and the preparation as usual."
)
OPEN, ANOTHER = N_("📋 Open the appointment"), N_("🗓 Book for another patient")
TIMES_PAGE = 24


def channels(context: BotContext) -> View:
    """Every question answered: at the desk, on the phone, urgent or inpatient."""
    items = [(context._(label), routes.DESK_CHANNEL(code)) for code, label in CHANNELS.items()]
    return context._(CHOOSE_CHANNEL), choices(items, columns=2, extra=_menu(context))


def _menu(context: BotContext) -> list[tuple[str, str]]:
    return [(context._(TO_MENU), routes.STAFF_MENU())]


def _ready(context: BotContext, *more: str) -> DeskDraft:
    """The draft with every question answered (and ``more``), or NotFound (start again)."""
    found = draft(context, "patient", "exam", "insurer", "questions", *more)
    answers = found.get("answers", {})
    if any(str(q) not in answers for q in found["questions"]):
        raise NotFound(STALE)  # an old button of a booking with questions still open
    return found


async def channel(p: Press) -> View | None:
    """How the booking is made: then when."""
    code, context = p.args.word(0), p.context
    if code not in _CHANNEL:
        return None
    found = _ready(context)
    booked_by, keep = _CHANNEL[code]
    found["channel"] = booked_by.value
    if keep is None:
        found.pop("keep", None)
    else:
        found["keep"] = keep.value
    DESK.put(context, found)
    items = [(context._(FIRST), routes.DESK_FIRST()), (context._(PICK_DAY), routes.DESK_DAYS())]
    return context._(CHOOSE_WHEN), choices(items, extra=_menu(context))


def _keep(found: DeskDraft) -> Keep | None:
    return Keep(found["keep"]) if "keep" in found else None


async def first_free(p: Press) -> View:
    """Book the first free time."""
    return await _book(p.context, p.actor, None)


async def days(p: Press) -> View:
    """A page of the days with a free place."""
    return await days_view(p.context, p.args.page(0))


def _desk_actor(context: BotContext) -> Actor | None:
    """The staff member booking, acting as reception (their reception sites' times)."""
    staff = context.visitor.staff
    return staff.require_role(Role.RECEPTION) if staff is not None else None


async def _free_days(
    uow: UnitOfWork, found: DeskDraft, actor: Actor | None
) -> list[tuple[date, int]]:
    first = today(uow)
    last = first + timedelta(days=uow.policy.horizon_days - 1)
    times = await desk_times(
        uow,
        found["exam"],
        first,
        last,
        channel=BookingChannel(found["channel"]),
        keep=_keep(found),
        actor=actor,
    )
    return [(day, sum(t.free for t in found)) for day, found in sorted(times.items()) if found]


async def days_view(context: BotContext, page: int = 0, note: str | None = None) -> View:
    """The days with a free place for this booking (kept places too, for its purpose)."""
    found, lang = _ready(context, "channel"), context.lang
    async with context.services.uow().reading() as uow:
        free = await _free_days(uow, found, _desk_actor(context))
    if not free:
        horizon = digits(str(context.services.policy.horizon_days), lang)
        text = context._(NO_DAYS).format(days=horizon)
        return _noted(text, note), choices([], extra=_menu(context))
    items = [
        (f"{format_day_short(day, lang)} ({digits(str(n), lang)})", routes.DESK_DAY(day))
        for day, n in free
    ]
    markup = paged(
        items, page, routes.DESK_DAYS, more=context._(MORE), back=context._(EARLIER),
        columns=2, extra=[(context._(FIRST), routes.DESK_FIRST()), *_menu(context)],
    )  # fmt: skip
    return _noted(context._(CHOOSE_DAY), note), markup


def _noted(text: str, note: str | None) -> str:
    return f"{note}\n\n{text}" if note else text


async def _free_times(
    uow: UnitOfWork, found: DeskDraft, chosen: date, actor: Actor | None
) -> list[BookableTime]:
    channel, keep = BookingChannel(found["channel"]), _keep(found)
    times = await desk_times(
        uow, found["exam"], chosen, chosen, channel=channel, keep=keep, actor=actor
    )
    return times.get(chosen, [])


async def day(p: Press) -> View:
    """The free start times of the day chosen, a page at a time."""
    return await times_view(p.context, p.args.day(0), p.args.page(1))


async def times_view(
    context: BotContext, chosen: date, page: int = 0, note: str | None = None
) -> View:
    """A day's free start times (one per start: the core finds a device free then)."""
    found, lang = _ready(context, "channel"), context.lang
    async with context.services.uow().reading() as uow:
        times = await _free_times(uow, found, chosen, _desk_actor(context))
    starts = sorted({t.starts_at for t in times})
    if not starts:
        return await days_view(context, note=note or context._(NO_TIMES))
    items = [(format_time(s, lang), routes.DESK_AT(s)) for s in starts]
    markup = paged(
        items, page, routes.DESK_DAY, chosen, more=context._(LATER_TIMES),
        back=context._(EARLIER_TIMES), columns=4, size=TIMES_PAGE,
        extra=[(context._(TO_DAYS), routes.DESK_DAYS()), *_menu(context)],
    )  # fmt: skip
    text = context._(CHOOSE_TIME).format(day=format_day_short(chosen, lang))
    return _noted(text, note), markup


async def at(p: Press) -> View:
    """Book the time chosen; taken meanwhile, the day's other times."""
    starts = p.args.moment(0)
    try:
        return await _book(p.context, p.actor, starts)
    except (SlotFull, SlotUnavailable) as error:
        return await times_view(
            p.context, to_tehran(starts).date(), note=explain(error, p.context)
        )


async def _book(context: BotContext, actor: Actor, starts: datetime | None) -> View:
    """Book and confirm through the core (all or nothing), then the card; the draft ends."""
    found = _ready(context, "channel")
    async with context.services.uow() as uow:
        wanted = await asked(uow, context, found)
        request = DeskRequest(
            wanted.national_code, wanted.exam_code, found["insurer"], wanted.answers,
            tracking_code=found.get("tracking_code"), starts_at=starts,
            channel=BookingChannel(found["channel"]), keep=_keep(found),
        )  # fmt: skip
        booking = await book_at_desk(uow, actor, request)
        device = (await department_setup(uow)).devices[booking.device_id]
        who = patient_line(context, await get_patient(uow, booking.patient_id))
        await uow.commit()
    DESK.drop(context)
    day_text, time_text = when(booking.starts_at, context.lang)
    text = context._(BOOKED).format(
        patient=who,
        exam=wanted.exam_name,
        date=day_text,
        time=time_text,
        device=name(device, context.lang),
        room=device.room_in(context.lang) or "-",
        code=digits(booking.code, context.lang),
    )
    return text, _after(context, booking.id)


def _after(context: BotContext, booking_id: int) -> InlineKeyboardMarkup:
    items = [
        (context._(OPEN), routes.STAFF_BOOKING(booking_id)),
        (context._(ANOTHER), routes.DESK_BOOK()),
    ]
    return choices(items, extra=_menu(context))
