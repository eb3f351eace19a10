"""Which days the department works: Fridays, official holidays and staff overrides."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays

from clinic.department_setup import department_setup

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

FRIDAY = 4  # date.weekday(): Monday 0 ... Friday 4


@lru_cache(maxsize=8)
def _iran_holidays(year: int) -> dict[date, str]:
    # The package's lunar dates are estimates (moon sighting may move them a day);
    # staff overrides below correct them.
    calendar = holidays.country_holidays("IR", years=year, language="fa_IR")
    return {day: str(name) for day, name in calendar.items()}


def official_holiday(day: date) -> str | None:
    """The official holiday's Persian name on ``day``, or None."""
    return _iran_holidays(day.year).get(day)


async def day_overrides(uow: UnitOfWork, first: date, last: date) -> dict[date, bool]:
    """Staff decisions for days in ``first..last``: True re-opens, False closes."""
    return (await department_setup(uow)).overrides_between(first, last)


def department_open(day: date, overrides: dict[date, bool], *, observe_holidays: bool) -> bool:
    """Open unless it is Friday or an official holiday, and staff have the last word."""
    if day in overrides:
        return overrides[day]
    if day.weekday() == FRIDAY:
        return False
    return not (observe_holidays and official_holiday(day) is not None)


async def open_days(uow: UnitOfWork, first: date, last: date) -> list[date]:
    """The days in ``first..last`` the department works, earliest first."""
    overrides = await day_overrides(uow, first, last)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    observe = uow.policy.observe_holidays
    return [day for day in days if department_open(day, overrides, observe_holidays=observe)]
