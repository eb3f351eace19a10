"""The booking's ``.ics`` file (issue 14, part 5): parsed back with icalendar and valid by its
rules, in Tehran time with the zone in the file, Persian text and digits, the practical
preparation only, one alarm, and the same UID with a higher SEQUENCE after a move."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from icalendar import Alarm, Timezone

from clinic.actors import Actor
from clinic.booking import cancel_booking, confirm_booking, hold_slot, reschedule_hold
from clinic.calendar_file import UID_DOMAIN, booking_calendar
from clinic.errors import Conflict, NotFound
from clinic.i18n import translator
from clinic.jalali import TEHRAN
from clinic.text import to_persian_digits
from tests.factories import add_patient, approved_referral, build_department
from tests.ical import moment, number, parse_valid, prop, text

if TYPE_CHECKING:
    from clinic.models import Booking, Exam
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv
    from tests.factories import Department

SUNDAY, MONDAY, TUESDAY = date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)
TEHRAN_OFFSET = timedelta(hours=3, minutes=30)
ROOM_FA, ROOM_EN = "طبقه همکف، اتاق ۱۰۴", "Ground floor, room 104"
HOSPITAL_FA = "بیمارستان امام رضا (ع) بجنورد"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _department(uow: UnitOfWork) -> Department:
    dept = await build_department(uow)
    dept.ct.room, dept.ct.room_en = ROOM_FA, ROOM_EN
    await uow.session.flush()
    return dept


async def _booked(uow: UnitOfWork, dept: Department, exam: Exam, when: datetime) -> Booking:
    patient = await add_patient(uow, 1)
    referral = await approved_referral(uow, patient, exam)
    hold = await hold_slot(uow, Actor.patient(patient), referral, dept.ct.id, when)
    return await confirm_booking(uow, Actor.patient(patient), hold.id)


async def test_the_file_is_valid_in_tehran_time_with_persian_text_and_practical_steps(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await _department(uow)
        booking = await _booked(uow, dept, dept.ct_contrast, at(MONDAY, 9))
        ics = await booking_calendar(uow, Actor.patient(booking.patient_id), booking.id, "fa")
        await uow.commit()
    assert (ics.file_name, ics.mime_type) == (f"radyar-{booking.code}.ics", "text/calendar")
    calendar, event = parse_valid(ics.data)
    assert (str(calendar["METHOD"]), str(calendar["VERSION"])) == ("PUBLISH", "2.0")
    assert f"referral-{booking.referral_id}@{UID_DOMAIN}" == text(event, "UID") == ics.uid
    assert number(event, "SEQUENCE") == ics.sequence == 0

    # Tehran time, +03:30, with its VTIMEZONE in the file (not left to the phone's guess).
    assert b"DTSTART;TZID=Asia/Tehran:20261130T090000\r\n" in ics.data
    start = moment(event, "DTSTART")
    assert start == at(MONDAY, 9) and start.utcoffset() == TEHRAN_OFFSET
    assert moment(event, "DTEND") - start == timedelta(minutes=30)  # two 15-minute CT slots
    (zone,) = [c for c in calendar.walk() if isinstance(c, Timezone)]
    assert text(zone, "TZID") == "Asia/Tehran"
    assert {prop(sub, "TZOFFSETTO").td for sub in zone.subcomponents} == {TEHRAN_OFFSET}
    assert calendar.get_missing_tzids() == set()

    summary, location = text(event, "SUMMARY"), text(event, "LOCATION")
    assert summary == f"سی‌تی‌اسکن شکم و لگن با تزریق — {HOSPITAL_FA}"
    assert prop(event, "SUMMARY").params["LANGUAGE"] == "fa"
    assert location.startswith(f"سی‌تی‌اسکن، {ROOM_FA}، بخش تصویربرداری {HOSPITAL_FA}")
    description = text(event, "DESCRIPTION")
    assert to_persian_digits(booking.code) in description
    assert "از ۶ ساعت قبل چیزی نخورید." in description  # fasting, with its clock time:
    assert "۰۳:۰۰" in description
    assert "کراتینین" not in description  # a lab test points to a condition: the bot says it
    assert "باردار" not in description  # nor any screening question or answer
    assert not re.search(r"[0-9]", description + location + summary)  # Persian digits only
    assert (text(event, "CLASS"), text(event, "STATUS")) == ("PRIVATE", "CONFIRMED")

    # Fasting from 03:00: the alarm rings the evening before, at 21:00 (UTC in the file).
    (alarm,) = [c for c in event.walk() if isinstance(c, Alarm)]
    assert text(alarm, "ACTION") == "DISPLAY"
    assert moment(alarm, "TRIGGER") == at(SUNDAY, 21)
    assert b"TRIGGER;VALUE=DATE-TIME:20261129T173000Z" in ics.data
    assert "سی‌تی‌اسکن شکم و لگن با تزریق" in text(alarm, "DESCRIPTION")


async def test_an_exam_without_long_preparation_rings_two_hours_before(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await _department(uow)
        booking = await _booked(uow, dept, dept.ct_brain, at(MONDAY, 10, 30))
        ics = await booking_calendar(uow, Actor.patient(booking.patient_id), booking.id, "en")
        await uow.commit()
    _, event = parse_valid(ics.data)
    (alarm,) = [c for c in event.walk() if isinstance(c, Alarm)]
    assert prop(alarm, "TRIGGER").dt == -timedelta(hours=2)
    assert text(event, "SUMMARY") == "CT brain — Imam Reza Hospital, Bojnurd"
    assert ROOM_EN in text(event, "LOCATION")
    description = text(event, "DESCRIPTION")
    assert booking.code in description
    assert translator("en").gettext("No special preparation.") in description
    assert moment(event, "DTEND") - moment(event, "DTSTART") == timedelta(minutes=15)


async def test_a_move_and_a_new_booking_keep_the_uid_and_raise_the_sequence(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await _department(uow)
        first = await _booked(uow, dept, dept.ct_brain, at(MONDAY, 9))
        me = Actor.patient(first.patient_id)
        files = [await booking_calendar(uow, me, first.id, "fa")]
        hold = await reschedule_hold(uow, me, first.id, dept.ct.id, at(TUESDAY, 11))
        moved = await confirm_booking(uow, me, hold.id)
        files.append(await booking_calendar(uow, me, moved.id, "fa"))
        await uow.commit()
    assert moved.code != first.code and files[1].file_name == f"radyar-{moved.code}.ics"
    assert files[0].uid == files[1].uid and (files[0].sequence, files[1].sequence) == (0, 1)
    _, event = parse_valid(files[1].data)
    assert moment(event, "DTSTART") == at(TUESDAY, 11) and number(event, "SEQUENCE") == 1
    async with env.uow() as uow:  # cancelled, then booked again for the same referral
        await cancel_booking(uow, me, moved.id)
        hold = await hold_slot(uow, me, moved.referral_id, dept.ct.id, at(TUESDAY, 12))
        again = await confirm_booking(uow, me, hold.id)
        ics = await booking_calendar(uow, me, again.id, "fa")
        await uow.commit()
    assert (ics.uid, ics.sequence) == (files[0].uid, 2)


async def test_only_the_patients_own_booked_appointment_has_a_file(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await _department(uow)
        booking = await _booked(uow, dept, dept.ct_brain, at(MONDAY, 9))
        other = await add_patient(uow, 2)
        with pytest.raises(NotFound):
            await booking_calendar(uow, Actor.patient(other), booking.id, "fa")
        referral = await approved_referral(uow, other, dept.ct_brain)
        hold = await hold_slot(uow, Actor.patient(other), referral, dept.ct.id, at(MONDAY, 10))
        with pytest.raises(Conflict):  # a hold is not an appointment yet
            await booking_calendar(uow, Actor.patient(other), hold.id, "fa")
        await cancel_booking(uow, Actor.patient(booking.patient_id), booking.id)
        with pytest.raises(Conflict):
            await booking_calendar(uow, Actor.patient(booking.patient_id), booking.id, "fa")
        await uow.commit()
