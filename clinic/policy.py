"""The department's booking policy: the numbers a use case needs, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """Booking rules that a department may tune (all read from ``RADYAR_*`` settings)."""

    horizon_days: int = 30
    hold_minutes: int = 10
    min_lead_minutes: int = 120
    patient_cancel_notice_hours: int = 24
    waitlist_offer_minutes: int = 120
    reminder_hours: tuple[int, ...] = (24, 2)
    closure_move: bool = True
    observe_holidays: bool = True
    department_name_fa: str = "بخش تصویربرداری"
    department_name_en: str = "Medical Imaging Department"
