"""Tehran time and the Jalali calendar: parse dates users type, format dates users read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import jdatetime

from clinic.errors import InvalidDate
from clinic.text import normalize_digits, to_persian_digits

# UTC+03:30 all year since DST was abolished in 2022; tzdata is a dependency so the host's
# (possibly older) tz database cannot put summer back at +04:30.
TEHRAN = ZoneInfo("Asia/Tehran")

_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
_MONTHS_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip
# Indexed by iran_weekday: 0 = Saturday … 6 = Friday. سه‌شنبه carries a ZWNJ.
_WEEKDAYS_FA = ("شنبه", "یکشنبه", "دوشنبه", "سه\u200cشنبه", "چهارشنبه", "پنجشنبه", "جمعه")
_WEEKDAYS_EN = ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_WEEKDAYS_EN_SHORT = ("Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri")

_JALALI_DATE = re.compile(r"(\d{4})([/-])(\d{1,2})\2(\d{1,2})", re.ASCII)


def to_tehran(dt: datetime) -> datetime:
    """The same instant in Tehran time. Raises ValueError for a naive datetime."""
    _require_aware(dt)
    return dt.astimezone(TEHRAN)


def utc(dt: datetime) -> datetime:
    """The same instant in UTC. Raises ValueError for a naive datetime."""
    _require_aware(dt)
    return dt.astimezone(UTC)


def tehran_datetime(d: date, t: time) -> datetime:
    """The aware datetime for wall-clock ``t`` on ``d`` in Tehran."""
    return datetime.combine(d, t, tzinfo=TEHRAN)


def iran_weekday(d: date) -> int:
    """Day of the Iranian week: 0 = Saturday … 6 = Friday."""
    return (d.weekday() + 2) % 7


def parse_jalali_date(raw: str) -> date:
    """The Gregorian date for a Jalali date typed like ``1403/12/30`` or ``۱۴۰۳-۱۲-۳۰``.

    Raises InvalidDate for text that is not a date or a date that does not exist
    (1404/12/30, 1403/13/01).
    """
    match = _JALALI_DATE.fullmatch(normalize_digits(raw).strip())
    if match is None:
        raise InvalidDate()
    year, month, day = int(match[1]), int(match[3]), int(match[4])
    try:
        gregorian: date = jdatetime.date(year, month, day).togregorian()
    except (ValueError, OverflowError) as exc:
        raise InvalidDate() from exc
    return gregorian


def jalali_iso(d: date) -> str:
    """``1403/12/30``: the Jalali date with ASCII digits, zero padded, for machines and staff."""
    j = _jalali(d)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def format_date(d: date, lang: str) -> str:
    """``پنجشنبه ۳۰ اسفند ۱۴۰۳`` for ``fa``, ``Thursday 30 Esfand 1403`` for ``en``."""
    j = _jalali(d)
    if _is_english(lang):
        return f"{_WEEKDAYS_EN[j.weekday()]} {j.day} {_MONTHS_EN[j.month - 1]} {j.year}"
    text = f"{_WEEKDAYS_FA[j.weekday()]} {j.day} {_MONTHS_FA[j.month - 1]} {j.year}"
    return to_persian_digits(text)


def format_day_short(d: date, lang: str) -> str:
    """``شنبه ۸ آذر`` for ``fa``, ``Sat 8 Azar`` for ``en``: a day button label."""
    j = _jalali(d)
    if _is_english(lang):
        return f"{_WEEKDAYS_EN_SHORT[j.weekday()]} {j.day} {_MONTHS_EN[j.month - 1]}"
    return to_persian_digits(f"{_WEEKDAYS_FA[j.weekday()]} {j.day} {_MONTHS_FA[j.month - 1]}")


def format_time(t: time | datetime, lang: str) -> str:
    """``14:30`` for ``en``, ``۱۴:۳۰`` for ``fa``; a datetime is shown in Tehran time."""
    if isinstance(t, datetime):
        t = to_tehran(t).time()
    text = f"{t.hour:02d}:{t.minute:02d}"
    return text if _is_english(lang) else to_persian_digits(text)


def format_datetime(dt: datetime, lang: str) -> str:
    """The Tehran date and time: ``… ساعت ۱۴:۳۰`` for ``fa``, ``… at 14:30`` for ``en``."""
    local = to_tehran(dt)
    joiner = " at " if _is_english(lang) else " ساعت "
    return format_date(local.date(), lang) + joiner + format_time(local, lang)


def _is_english(lang: str) -> bool:
    # Persian is the default: any language we do not speak is shown Persian text.
    return lang.lower().startswith("en")


def _jalali(d: date) -> jdatetime.date:
    # jdatetime's weekday() is already Iranian: 0 = Saturday.
    if isinstance(d, datetime):
        d = (to_tehran(d) if d.tzinfo is not None else d).date()
    return jdatetime.date.fromgregorian(date=d)


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: attach a time zone first")
