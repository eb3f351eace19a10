"""Pure rules, with fixed dates: codes, the working calendar, slot starts, night-time notices."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from clinic.actors import Actor
from clinic.availability import slot_starts, slots_needed
from clinic.calendar import department_open, official_holiday
from clinic.codes import new_code, parse_code
from clinic.department_setup import DeviceView, ExamView, ShiftView
from clinic.errors import HoldExpired, NotAllowed, TooLateToCancel
from clinic.i18n import pick_language
from clinic.jalali import TEHRAN
from clinic.models import Role
from clinic.reminders import before_night


@pytest.mark.parametrize("_", range(50))
def test_new_codes_pass_their_own_check(_: int) -> None:
    code = new_code()
    assert len(code) == 7
    assert code[0] != "0"
    assert parse_code(code) == code


def test_a_mistyped_code_is_caught() -> None:
    code = new_code()
    swapped = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert parse_code(swapped) is None
    assert parse_code("۱۲") is None
    assert parse_code("abc1234") is None


def test_codes_are_read_in_persian_digits_with_spaces() -> None:
    code = new_code()
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert parse_code(f" {persian[:3]} {persian[3:]} ") == code


def test_fridays_and_official_holidays_are_closed() -> None:
    assert not department_open(date(2026, 12, 4), {}, observe_holidays=True)  # Friday
    assert not department_open(date(2026, 3, 21), {}, observe_holidays=True)  # Nowruz
    assert official_holiday(date(2026, 3, 21)) is not None
    assert department_open(date(2026, 11, 30), {}, observe_holidays=True)  # a Monday


def test_staff_overrides_have_the_last_word() -> None:
    nowruz = date(2026, 3, 21)
    assert department_open(nowruz, {nowruz: True}, observe_holidays=True)
    monday = date(2026, 11, 30)
    assert not department_open(monday, {monday: False}, observe_holidays=True)
    assert department_open(date(2026, 3, 22), {}, observe_holidays=False)


def _device(slot: int, *shifts: tuple[int, time, time]) -> DeviceView:
    hours = tuple(ShiftView(w, s, e) for w, s, e in shifts)
    return DeviceView(1, "D", "دستگاه", "Device", "CT", "", "", slot, 1, True, None, hours)


def _exam(duration: int) -> ExamView:
    return ExamView(
        1, "E", "آزمون", "Exam", "CT", "head", duration, False, False, False, None, True, (), ()
    )


def test_slot_starts_follow_shifts_of_the_iranian_week() -> None:
    # Monday is weekday 2 of the Iranian week (Saturday 0).
    device = _device(30, (2, time(8), time(10)), (2, time(15), time(16)), (3, time(8), time(9)))
    starts = [s.time() for s in slot_starts(device, date(2026, 11, 30), 1)]
    assert starts == [time(8), time(8, 30), time(9), time(9, 30), time(15), time(15, 30)]
    two = [s.time() for s in slot_starts(device, date(2026, 11, 30), 2)]
    assert two == [time(8), time(8, 30), time(9), time(15)]
    assert slot_starts(device, date(2026, 12, 4), 1) == []
    assert slot_starts(device, date(2026, 11, 30), 1)[0].tzinfo == TEHRAN


@pytest.mark.parametrize(
    ("duration", "slot", "needed"), [(10, 10, 1), (15, 10, 2), (45, 30, 2), (5, 30, 1)]
)
def test_an_exam_takes_as_many_slots_as_it_needs(duration: int, slot: int, needed: int) -> None:
    assert slots_needed(_exam(duration), _device(slot)) == needed


@pytest.mark.parametrize(
    ("due", "sent"),
    [
        (datetime(2026, 11, 30, 3, 0), datetime(2026, 11, 29, 21, 0)),
        (datetime(2026, 11, 29, 23, 30), datetime(2026, 11, 29, 21, 0)),
        (datetime(2026, 11, 30, 7, 0), datetime(2026, 11, 30, 7, 0)),
        (datetime(2026, 11, 30, 21, 59), datetime(2026, 11, 30, 21, 59)),
    ],
)
def test_preparation_notices_never_wake_the_patient(due: datetime, sent: datetime) -> None:
    assert before_night(due.replace(tzinfo=TEHRAN)) == sent.replace(tzinfo=TEHRAN)


def test_roles_are_checked_and_admin_may_do_everything() -> None:
    Actor.staff(1, [Role.RECEPTION]).require_role(Role.RECEPTION)
    Actor.staff(1, [Role.ADMIN]).require_role(Role.REPORTING)
    Actor.system().require_role(Role.ADMIN)
    with pytest.raises(NotAllowed):
        Actor.staff(1, [Role.BROADCASTER]).require_role(Role.RECEPTION)
    with pytest.raises(NotAllowed):
        Actor.patient(1).require_role(Role.RECEPTION)
    with pytest.raises(NotAllowed):
        Actor.health_worker(1).require_role(Role.ADMIN)


def test_errors_fill_their_placeholders_after_translation() -> None:
    assert "24 hours" in str(TooLateToCancel(hours=24))
    persian = HoldExpired(minutes=10).render(lambda _s: "نوبت شما {minutes} دقیقه نگه داشته شد")
    assert persian == "نوبت شما 10 دقیقه نگه داشته شد"


def test_language_comes_from_the_saved_choice_then_the_client_then_persian() -> None:
    assert pick_language("en", "fa") == "en"
    assert pick_language(None, "en-US") == "en"
    assert pick_language(None, "de") == "fa"
    assert pick_language(None, None) == "fa"
