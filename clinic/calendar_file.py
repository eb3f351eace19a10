"""A booking as an iCalendar file (RFC 5545) the patient adds to their phone's calendar.

One VEVENT in Tehran time with its VTIMEZONE, named for the exam and the hospital, placed at
the device's room, with the practical preparation and one alarm. Its UID is the referral's,
not the booking code's: a move makes a new booking with a new code (and a closure's move hands
the old code on), while the referral stays; each later booking of the referral carries a
higher SEQUENCE, so a calendar that has the earlier file replaces that event instead of adding
a second one. Nothing clinical goes in (no screening answers, no reasons, no medicines or lab
tests): a calendar is often synced to a phone's cloud account and shown on a lock screen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from icalendar import Alarm, Calendar, Event, Timezone
from sqlalchemy import func, select

from clinic import sites
from clinic.booking import get_booking
from clinic.department_setup import department_setup
from clinic.errors import Conflict
from clinic.i18n import N_, translator
from clinic.jalali import TEHRAN, format_date, format_day_short, format_time, to_tehran
from clinic.models import Booking, BookingStatus
from clinic.reminders import EVENING
from clinic.text import to_persian_digits

if TYPE_CHECKING:
    from collections.abc import Sequence

    from clinic.actors import Actor
    from clinic.policy import Department as Details
    from clinic.setup_views import DeviceView, ExamView, PrepView
    from clinic.uow import UnitOfWork

# A reserved top-level name (RFC 2606): never someone's real host, so the UIDs cannot collide
# with another product's; the referral id makes them unique within the deployment.
UID_DOMAIN = "radyar.invalid"
PRODID = "-//Radyar//Imaging appointments//FA"
MIME_TYPE = "text/calendar"
# The preparation kinds a calendar shows: what to do and bring, not which medicines or tests
# (those point to a condition; the bot's preparation message has them).
PRACTICAL = frozenset({"fasting", "water", "bring", "clothing", "metal", "other"})
ALARM_BEFORE = timedelta(hours=2)
LONG_PREPARATION = 2.0  # hours: a step that starts this early moves the alarm to the evening
ZONE_MARGIN = timedelta(days=366)  # the VTIMEZONE covers the event with a year either side
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)

DESCRIPTION = N_(
    "Booking code: {code}\n"
    "Phone: {phone}\n\n"
    "Please bring your national card, the referral, and any previous images and reports.\n\n"
    "Preparation:\n{preparation}"
)
ALARM = N_("Imaging appointment: {exam}, {date} at {time}")
NO_PREPARATION = N_("No special preparation.")
TIMED = N_("{ahead} (from {time} on {date}): {text}")


CALENDAR_CAPTION = N_(
    "📅 To add this appointment to your phone's calendar, open this file. If the appointment "
    "moves, we send a new file that updates it."
)


@dataclass(frozen=True)
class CalendarFile:
    """An ``.ics`` file to send: its name, bytes and what it holds."""

    file_name: str
    data: bytes
    uid: str
    sequence: int
    mime_type: str = MIME_TYPE


@dataclass(frozen=True)
class Appointment:
    """What the file says, in the patient's language (built by ``booking_calendar``)."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    alarm_at: datetime | None  # None: ALARM_BEFORE the start
    alarm_text: str
    lang: str


async def booking_calendar(
    uow: UnitOfWork, actor: Actor, booking_id: int, lang: str
) -> CalendarFile:
    """The booking's ``.ics`` file in ``lang`` (``fa``: Persian text and digits).

    Raises NotFound for a booking the actor may not see, Conflict for one that is not booked
    (a hold, or one that has ended).
    """
    booking = await get_booking(uow, actor, booking_id)
    if booking.status not in BOOKED:
        raise Conflict()
    setup = await department_setup(uow)
    exam, device = setup.exam(booking.exam_id), setup.devices[booking.device_id]
    site = await sites.site(uow, device.site)
    details = site.details if site is not None else await sites.details(uow, None)
    local = to_tehran(booking.starts_at)
    hospital = (site.hospital(lang) if site is not None else "") or details.text("name", lang)
    appointment = Appointment(
        uid=f"referral-{booking.referral_id}@{UID_DOMAIN}",
        sequence=await _sequence(uow, booking),
        starts_at=local,
        ends_at=local + timedelta(minutes=device.slot_minutes * booking.slots),
        summary=f"{_name(exam, lang)} — {hospital}",
        location=_location(device, details, lang),
        description=_description(booking.code, exam, details, local, lang),
        alarm_at=_alarm_at(local, exam.preparation),
        alarm_text=_alarm_text(exam, local, lang),
        lang=lang,
    )
    data = calendar_bytes(appointment, uow.clock.now())
    return CalendarFile(f"radyar-{booking.code}.ics", data, appointment.uid, appointment.sequence)


def _name(named: ExamView | DeviceView, lang: str) -> str:
    return named.name_fa if lang == "fa" else named.name_en


def _location(device: DeviceView, details: Details, lang: str) -> str:
    """The device and its room, the site, the address: what a map or a driver needs."""
    place = [_name(device, lang), device.room_in(lang), details.text("name", lang)]
    place.append(details.text("address", lang))
    return ("، " if lang == "fa" else ", ").join(part for part in place if part)


def _description(code: str, exam: ExamView, details: Details, start: datetime, lang: str) -> str:
    """The code, the phone, what to bring and the practical preparation at its clock times."""
    _ = translator(lang).gettext
    steps = [s for s in exam.preparation if s.kind in PRACTICAL]
    return _(DESCRIPTION).format(
        code=_digits(code, lang),
        phone=_digits(details.phone, lang),
        preparation="\n".join(_step_lines(steps, start, lang)) or _(NO_PREPARATION),
    )


def _alarm_text(exam: ExamView, start: datetime, lang: str) -> str:
    day, time = format_date(start.date(), lang), format_time(start, lang)
    return translator(lang).gettext(ALARM).format(exam=_name(exam, lang), date=day, time=time)


def calendar_bytes(appointment: Appointment, stamp: datetime) -> bytes:
    """The iCalendar text of ``appointment`` (METHOD:PUBLISH), created at ``stamp``."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    language = {"LANGUAGE": appointment.lang}
    event.add("summary", appointment.summary, parameters=language)
    event.add("location", appointment.location, parameters=language)
    event.add("description", appointment.description, parameters=language)
    event.add("status", "CONFIRMED")
    event.add("class", "PRIVATE")  # a shared calendar shows "busy", not the exam
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", appointment.alarm_text)
    if appointment.alarm_at is None:
        alarm.add("trigger", -ALARM_BEFORE)
    else:  # an absolute trigger is written in UTC (RFC 5545 3.8.6.3)
        moment = appointment.alarm_at.astimezone(UTC)
        alarm.add("trigger", moment, parameters={"VALUE": "DATE-TIME"})
    event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_component(_zone(appointment.starts_at.date()))
    calendar.validate()  # type: ignore[no-untyped-call]  # PRODID, VERSION, a component
    return bytes(calendar.to_ical())


@functools.lru_cache(maxsize=64)  # the booking horizon's days
def _zone(day: date) -> Timezone:
    """Tehran's VTIMEZONE around ``day`` (a year either side): some 30 ms to build from the
    zone's transitions, so built once per day a file is for; never changed once built."""
    return Timezone.from_tzinfo(
        TEHRAN, "Asia/Tehran", first_date=day - ZONE_MARGIN, last_date=day + ZONE_MARGIN
    )


def _alarm_at(start: datetime, steps: Sequence[PrepView]) -> datetime | None:
    """The evening before (or when the longest step starts, if earlier) for an exam whose
    preparation starts hours ahead, such as fasting; None: two hours before."""
    longest = max((s.hours_before or 0.0 for s in steps), default=0.0)
    if longest < LONG_PREPARATION:
        return None
    evening = datetime.combine(start.date() - timedelta(days=1), EVENING, tzinfo=TEHRAN)
    return min(evening, start - timedelta(hours=longest))


def _step_lines(steps: Sequence[PrepView], start: datetime, lang: str) -> list[str]:
    """One bullet per step; a timed one says from when, at the clock time of this booking."""
    tr = translator(lang)
    lines = []
    for step in steps:
        text = step.text_fa if lang == "fa" else step.text_en
        if step.hours_before is None:
            lines.append(f"• {text}")
            continue
        moment = start - timedelta(hours=step.hours_before)
        line = tr.gettext(TIMED).format(
            ahead=_ahead(step.hours_before, lang),
            time=format_time(moment, lang),
            date=format_day_short(moment.date(), lang),
            text=text,
        )
        lines.append(f"• {line}")
    return lines


def _ahead(hours: float, lang: str) -> str:
    """``6 hours before`` or ``30 minutes before`` (the bot's preparation words)."""
    tr, minutes = translator(lang), round(hours * 60)
    if minutes % 60:
        text = tr.ngettext("{n} minute before", "{n} minutes before", minutes)
        return text.format(n=_digits(str(minutes), lang))
    hours_whole = minutes // 60
    text = tr.ngettext("{n} hour before", "{n} hours before", hours_whole)
    return text.format(n=_digits(str(hours_whole), lang))


async def _sequence(uow: UnitOfWork, booking: Booking) -> int:
    """How many bookings of the referral were confirmed before this one (moves, rebookings
    after a cancellation): 0 for the first."""
    earlier = await uow.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.referral_id == booking.referral_id,
            Booking.confirmed_at.is_not(None),
            Booking.id < booking.id,
        )
    )
    return int(earlier or 0)


def _digits(text: str, lang: str) -> str:
    return to_persian_digits(text) if lang == "fa" else text
