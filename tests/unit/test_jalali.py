"""Dates patients type and read are Jalali, and times are Tehran time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from clinic.errors import InvalidDate
from clinic.jalali import (
    TEHRAN,
    format_date,
    format_datetime,
    format_day_short,
    format_time,
    iran_weekday,
    jalali_iso,
    parse_jalali_date,
    tehran_datetime,
    to_tehran,
    utc,
)

NOWRUZ_1404 = date(2025, 3, 21)
LAST_DAY_1403 = date(2025, 3, 20)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1403/12/30", LAST_DAY_1403),
        ("1403-12-30", LAST_DAY_1403),
        ("۱۴۰۳/۱۲/۳۰", LAST_DAY_1403),
        ("١٤٠٣/١٢/٣٠", LAST_DAY_1403),
        (" 1404/01/01 ", NOWRUZ_1404),
        ("1404/1/1", NOWRUZ_1404),
        ("1403/1/5", date(2024, 3, 24)),
    ],
)
def test_jalali_dates_are_parsed(raw: str, expected: date) -> None:
    assert parse_jalali_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "1404/12/30",  # 1404 is not a leap year
        "1403/13/01",
        "1403/00/10",
        "1403/07/31",  # second half-year months have 30 days
        "1403/12/00",
        "1403/12-30",
        "03/12/30",
        "1403/12/30/1",
        "today",
        "",
        "2025-03-20x",
    ],
)
def test_impossible_or_unreadable_dates_are_refused(raw: str) -> None:
    with pytest.raises(InvalidDate):
        parse_jalali_date(raw)


def test_jalali_iso_is_zero_padded_ascii() -> None:
    assert jalali_iso(LAST_DAY_1403) == "1403/12/30"
    assert jalali_iso(date(2024, 3, 24)) == "1403/01/05"


def test_nowruz_is_a_friday_and_the_week_starts_saturday() -> None:
    assert jalali_iso(NOWRUZ_1404) == "1404/01/01"
    assert iran_weekday(NOWRUZ_1404) == 6
    assert iran_weekday(NOWRUZ_1404 + timedelta(days=1)) == 0  # Saturday
    assert [iran_weekday(date(2025, 3, 22) + timedelta(days=i)) for i in range(7)] == list(
        range(7)
    )


@pytest.mark.parametrize("day", [date(2026, 7, 1), date(2026, 1, 1)])
def test_tehran_is_three_thirty_ahead_all_year(day: date) -> None:
    local = tehran_datetime(day, time(12, 0))
    assert local.utcoffset() == timedelta(hours=3, minutes=30)
    assert utc(local) == datetime.combine(day, time(8, 30), tzinfo=UTC)


def test_to_tehran_keeps_the_instant() -> None:
    instant = datetime(2026, 7, 1, 20, 45, tzinfo=UTC)
    local = to_tehran(instant)
    assert local == instant
    assert (local.date(), local.hour, local.minute) == (date(2026, 7, 2), 0, 15)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_tehran(datetime(2026, 7, 1, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        utc(datetime(2026, 7, 1, 12, 0))


@pytest.mark.parametrize(
    ("day", "lang", "expected"),
    [
        (LAST_DAY_1403, "fa", "پنجشنبه ۳۰ اسفند ۱۴۰۳"),
        (LAST_DAY_1403, "en", "Thursday 30 Esfand 1403"),
        (NOWRUZ_1404, "fa", "جمعه ۱ فروردین ۱۴۰۴"),
        (NOWRUZ_1404, "en", "Friday 1 Farvardin 1404"),
        (date(2026, 11, 24), "fa", "سه\u200cشنبه ۳ آذر ۱۴۰۵"),
    ],
)
def test_format_date(day: date, lang: str, expected: str) -> None:
    assert format_date(day, lang) == expected


@pytest.mark.parametrize(
    ("day", "lang", "expected"),
    [
        (date(2025, 11, 29), "fa", "شنبه ۸ آذر"),
        (date(2025, 11, 29), "en", "Sat 8 Azar"),
        (date(2026, 11, 29), "fa", "یکشنبه ۸ آذر"),
        (date(2026, 11, 25), "fa", "چهارشنبه ۴ آذر"),
    ],
)
def test_format_day_short(day: date, lang: str, expected: str) -> None:
    assert format_day_short(day, lang) == expected


def test_format_time_in_both_languages() -> None:
    assert format_time(time(14, 30), "en") == "14:30"
    assert format_time(time(14, 30), "fa") == "۱۴:۳۰"
    assert format_time(time(8, 5), "en") == "08:05"


def test_format_time_shows_a_utc_instant_in_tehran_time() -> None:
    assert format_time(datetime(2026, 7, 1, 11, 0, tzinfo=UTC), "en") == "14:30"


def test_format_datetime_in_tehran() -> None:
    instant = datetime(2025, 3, 20, 11, 0, tzinfo=UTC)
    assert format_datetime(instant, "fa") == "پنجشنبه ۳۰ اسفند ۱۴۰۳ ساعت ۱۴:۳۰"
    assert format_datetime(instant, "en") == "Thursday 30 Esfand 1403 at 14:30"


def test_format_datetime_crosses_midnight_into_the_tehran_date() -> None:
    # 21:00 UTC on the last day of 1403 is already Nowruz in Tehran.
    instant = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)
    assert format_datetime(instant, "en") == "Friday 1 Farvardin 1404 at 00:30"


def test_tehran_constant_is_the_iana_zone() -> None:
    assert str(TEHRAN) == "Asia/Tehran"
