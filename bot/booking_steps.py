"""Days, times, holding a time and confirming it: the steps a patient and a health worker share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.callbacks import MAX_ID
from bot.handlers.common import explain
from bot.keyboards import choices, paged
from bot.views import booking_card, digits
from clinic.availability import BookableTime, bookable_days, bookable_times
from clinic.booking import confirm_booking, get_booking, hold_slot, reschedule_hold
from clinic.errors import ClinicError, NotFound, SlotFull, SlotUnavailable
from clinic.i18n import N_
from clinic.jalali import format_day_short, format_time
from clinic.models import Booking, BookingStatus
from clinic.no_shows import check_may_book
from clinic.referrals import get_referral

if TYPE_CHECKING:
    from datetime import date, datetime

    from bot.context import BotContext
    from bot.routes import Args, BookingRoutes
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

CHOOSE_DAY = N_("Please choose a day (the number of free places is in brackets):")
CHOOSE_TIME = N_("Please choose a time on {day}:")
NO_DAYS = N_(
    "There are no free places in the coming {days} days. Please try again later, or call the "
    "department."
)
NO_TIMES = N_("That day has just filled up. Please choose another day.")
CONFIRM = N_("✅ Confirm")
OTHER_TIME = N_("🔁 Another time")
MORE, BACK = N_("More days ›"), N_("‹ Earlier days")
LATER_TIMES, EARLIER_TIMES = N_("Later times ›"), N_("‹ Earlier times")
TIMES_PAGE = 24  # six rows of four: a day of ten-minute slots on two devices stays readable

Button = tuple[str, str]
Target = tuple[str, int]  # ("ref", a referral to book) or ("bk", a booking to move)
View = tuple[str, InlineKeyboardMarkup | None]


class Booker(ABC):
    """Who books, and what differs between a patient booking and a health worker booking.

    A subclass sets ``routes`` (the codes of its ``days``, ``day``, ``hold`` and ``confirm``
    buttons), the two cards' titles and, where it has them, the ways out of the steps.
    """

    routes: BookingRoutes
    held: str  # the hold card's title, with {minutes}
    booked: str  # the confirmed card's title

    def __init__(self, context: BotContext, actor: Actor) -> None:
        self.context, self.actor = context, actor

    # The health worker's override reads uow and booking; with **values they can be passed by
    # name, so an override must keep the names (hence the noqa rather than underscores).
    async def title(self, uow: UnitOfWork, msgid: str, booking: Booking, **values: str) -> str:  # noqa: ARG002
        """A card's title, translated and filled in."""
        return self.context._(msgid).format(**values)

    async def whose(self, uow: UnitOfWork, patient_id: int) -> str | None:  # noqa: ARG002
        """A line above the days and the cards saying whose they are (None: no line)."""
        return None

    def leave(self, _patient_id: int) -> list[Button]:
        """Buttons under the days, for the patient the booking is for."""
        return []

    def no_days(self, _patient_id: int) -> InlineKeyboardMarkup | None:
        """The keyboard under "no free places"."""
        return None

    @abstractmethod
    def refused(self, target: Target, error: ClinicError) -> View:
        """The answer when the time could not be held, other than being taken meanwhile."""


def target_of(args: Args) -> Target:
    """The referral or booking a day, time or hold button is for (its first two arguments)."""
    return args.word(0), args.id(1)


@dataclass(frozen=True)
class _Target:
    exam_id: int
    patient_id: int
    site_id: int | None  # the centre chosen for the referral (None: any)


async def _exam_of(uow: UnitOfWork, actor: Actor, target: Target) -> _Target:
    """The exam, patient and centre of the referral or the booking to move; NotFound for
    others'."""
    kind, target_id = target
    if not 0 < target_id <= MAX_ID:
        raise NotFound()
    if kind == "ref":
        referral = await get_referral(uow, actor, target_id)
    else:
        booking = await get_booking(uow, actor, target_id)
        referral = await get_referral(uow, actor, booking.referral_id)
    return _Target(referral.exam_id, referral.patient_id, referral.department_id)


def _noted(text: str, note: str | None) -> str:
    return f"{note}\n\n{text}" if note else text


async def days(b: Booker, args: Args) -> View:
    """A page of days (``days:<target>:<page>``)."""
    return await days_view(b, target_of(args), args.page(2))


async def days_view(b: Booker, target: Target, page: int = 0, note: str | None = None) -> View:
    """The bookable days, free places in brackets. Raises NotFound for others' targets."""
    context, lang = b.context, b.context.lang
    async with context.services.uow().reading() as uow:
        at = await _exam_of(uow, b.actor, target)
        patient_id = at.patient_id
        await check_may_book(uow, b.actor, patient_id)  # told now, not after choosing a time
        found = await bookable_days(uow, at.exam_id, site=at.site_id)
        line = await b.whose(uow, patient_id)
    if not found:
        horizon = digits(str(context.services.policy.horizon_days), lang)
        return _noted(context._(NO_DAYS).format(days=horizon), line), b.no_days(patient_id)
    items = [
        (
            f"{format_day_short(d.day, lang)} ({digits(str(d.free), lang)})",
            b.routes.day(*target, d.day),
        )
        for d in found
    ]
    markup = paged(
        items,
        page,
        b.routes.days,
        *target,
        more=context._(MORE),
        back=context._(BACK),
        columns=2,
        extra=b.leave(patient_id),
    )
    return _noted(_noted(context._(CHOOSE_DAY), note), line), markup


async def day(b: Booker, args: Args) -> View:
    """The free times of a day (``day:<target>:<YYYYMMDD>:<page>``)."""
    return await times_view(b, target_of(args), args.day(2), args.page(3))


async def times_view(
    b: Booker, target: Target, chosen: date, page: int = 0, note: str | None = None
) -> View:
    """The free times of the chosen day a page at a time (the days again when it has none)."""
    context, lang = b.context, b.context.lang
    async with context.services.uow().reading() as uow:
        at = await _exam_of(uow, b.actor, target)
        times = await bookable_times(uow, at.exam_id, chosen, site=at.site_id)
    if not times:
        return await days_view(b, target, note=note or context._(NO_TIMES))
    items = [
        (
            format_time(t.starts_at, lang),
            b.routes.hold(*target, t.device_id, t.starts_at),
        )
        for t in _one_per_start(times)
    ]
    markup = paged(
        items,
        page,
        b.routes.day,
        *target,
        chosen,
        more=context._(LATER_TIMES),
        back=context._(EARLIER_TIMES),
        columns=4,
        size=TIMES_PAGE,
        extra=[(context._(BACK), b.routes.days(*target, 0))],
    )
    text = context._(CHOOSE_TIME).format(day=format_day_short(chosen, lang))
    return _noted(text, note), markup


def _one_per_start(times: list[BookableTime]) -> list[BookableTime]:
    """One button per start time: the patient chooses a time, not a device (first wins)."""
    seen: set[datetime] = set()
    unique = []
    for t in times:
        if t.starts_at not in seen:
            seen.add(t.starts_at)
            unique.append(t)
    return unique


async def hold(b: Booker, args: Args) -> View:
    """Hold the time pressed (``hold:<target>:<device>:<YYYYMMDDHHMM>``): the card, Confirm.

    A time taken meanwhile shows the day's other times; another refusal is ``b.refused``.
    """
    target, device_id, starts = target_of(args), args.id(2), args.moment(3)
    try:
        held, card = await _hold_somewhere(b, target, device_id, starts)
    except (SlotFull, SlotUnavailable):
        # Taken by someone else a moment ago (or no longer bookable): the day's other times.
        taken = explain(SlotFull(), b.context)
        return await times_view(b, target, starts.date(), note=taken)
    except ClinicError as error:
        return b.refused(target, error)
    buttons = [
        (b.context._(CONFIRM), b.routes.confirm(held.id)),
        (b.context._(OTHER_TIME), b.routes.days(*target, 0)),
    ]
    return card, choices(buttons, columns=2)


async def _hold_somewhere(
    b: Booker, target: Target, device_id: int, starts: datetime
) -> tuple[Booking, str]:
    """Hold ``starts`` on the device pressed or, when it is full, on another one free then.

    The patient chose a time, not a device. Raises what hold_slot raises.
    """
    try:
        return await _hold_at(b, target, device_id, starts)
    except (SlotFull, SlotUnavailable):
        other = await _other_device(b, target, device_id, starts)
        if other is None:
            raise
        return await _hold_at(b, target, other, starts)


async def _hold_at(
    b: Booker, target: Target, device_id: int, starts: datetime
) -> tuple[Booking, str]:
    """Hold (or, for a booking, hold the new time of) ``starts`` on one device; the card."""
    context = b.context
    async with context.services.uow() as uow:
        if target[0] == "ref":
            held = await hold_slot(uow, b.actor, target[1], device_id, starts)
        else:
            held = await reschedule_hold(uow, b.actor, target[1], device_id, starts)
        minutes = digits(str(context.services.policy.hold_minutes), context.lang)
        title = await b.title(uow, b.held, held, minutes=minutes)
        card = _noted(
            await booking_card(uow, context, held, title), await b.whose(uow, held.patient_id)
        )
        await uow.commit()
    return held, card


async def _other_device(b: Booker, target: Target, device_id: int, starts: datetime) -> int | None:
    async with b.context.services.uow().reading() as uow:
        at = await _exam_of(uow, b.actor, target)
        times = await bookable_times(uow, at.exam_id, starts.date(), site=at.site_id)
    free = (t.device_id for t in times if t.starts_at == starts and t.device_id != device_id)
    return next(free, None)


async def confirm(b: Booker, booking_id: int) -> tuple[Booking, str] | None:
    """Confirm a held time: the booking and its card; None when it already was (a second tap).

    Raises what confirm_booking raises.
    """
    async with b.context.services.uow() as uow:
        before = await get_booking(uow, b.actor, booking_id)
        already = before.status == BookingStatus.CONFIRMED
        booking = await confirm_booking(uow, b.actor, booking_id)
        title = "✅ " + await b.title(uow, b.booked, booking)
        card = await booking_card(uow, b.context, booking, title)
        card = _noted(card, await b.whose(uow, booking.patient_id))
        await uow.commit()
    return None if already else (booking, card)
