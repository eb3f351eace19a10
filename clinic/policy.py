"""The department's booking policy: the numbers a use case needs, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class LinkRules:
    """How staff and health workers link a chat account with a one-time code.

    ``account_failures`` failed tries within ``window`` lock a chat account out for
    ``lockout``; ``code_failures`` failed bindings (a number that is not the person's, someone
    else's contact) revoke a code; once ``global_failures`` tries have failed department-wide
    within ``window``, each account gets one try per window instead (0: no global limit).
    ``key`` keys the HMAC the codes are stored as (empty: a plain SHA-256).
    """

    code_lifetime: timedelta = timedelta(hours=24)
    account_failures: int = 5
    window: timedelta = timedelta(hours=1)
    lockout: timedelta = timedelta(hours=1)
    code_failures: int = 3
    global_failures: int = 50
    key: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Policy:
    """Booking and linking rules a department may tune (all read from ``RADYAR_*`` settings)."""

    horizon_days: int = 30
    hold_minutes: int = 10
    min_lead_minutes: int = 120
    patient_cancel_notice_hours: int = 24
    waitlist_offer_minutes: int = 120
    reminder_hours: tuple[int, ...] = (24, 2)
    closure_move: bool = True
    observe_holidays: bool = True
    link: LinkRules = field(default_factory=LinkRules)
    # No hoarding: what one patient may keep at once (see clinic/limits.py for the definitions).
    max_open_referrals_per_exam: int = 1
    max_open_referrals: int = 3
    max_future_bookings_per_exam: int = 1
    max_future_bookings: int = 3
    repeat_review_days: int = 7  # a repeat referral for an exam within this goes to review; 0: off
    # More missed appointments than this (not forgiven by staff) and booking in chat or by a
    # health worker asks the patient to call the department instead; 0: never.
    no_show_limit: int = 2
    # The hospital systems told of each booking change (clinic/outbound.py): none by default.
    outbound: tuple[str, ...] = ()
    # Adapters told of some kinds of change only (clinic.outbound_views.OutboundKind values);
    # an adapter not named here is told of every kind.
    outbound_events: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # How long a reminder or waitlist offer sent by SMS can be answered by a one-digit reply
    # (clinic/sms_replies.py); 0: replies are not read (RADYAR_SMS_INBOUND off), so no SMS
    # invites one and no question is recorded.
    sms_reply_hours: int = 0
    # Corrections of one report the patient is told of per Tehran day; more are recorded
    # (the report's status and time) but tell nobody (clinic/reports.py). 0: none are told.
    report_corrections_per_day: int = 2

    @property
    def sms_replies(self) -> bool:
        """Whether replies to our SMS are read (and reminders and offers by SMS invite one)."""
        return self.sms_reply_hours > 0


@dataclass(frozen=True)
class Department:
    """How patients reach the department, shown in help and on results (fa and en)."""

    name_fa: str = "بخش تصویربرداری بیمارستان امام رضا (ع) بجنورد"
    name_en: str = "Medical Imaging, Imam Reza Hospital, Bojnurd"
    address_fa: str = "بجنورد، بیمارستان امام رضا (ع)، طبقهٔ همکف، بخش تصویربرداری"
    address_en: str = "Imam Reza Hospital, ground floor, Imaging Department, Bojnurd"
    phone: str = "058-3100-0000"
    hours_fa: str = "شنبه تا چهارشنبه ۷:۳۰ تا ۲۱، پنجشنبه ۷:۳۰ تا ۱۲:۳۰"
    hours_en: str = "Saturday to Wednesday 07:30-21:00, Thursday 07:30-12:30"
    pickup_fa: str = "باجهٔ جواب‌دهی بخش تصویربرداری، شنبه تا چهارشنبه ۸ تا ۱۴"
    pickup_en: str = "Results desk of the Imaging Department, Saturday to Wednesday 08:00-14:00"

    def text(self, field: str, lang: str) -> str:
        """The ``field`` (name, address, hours, pickup) in ``lang``."""
        return str(getattr(self, f"{field}_{'fa' if lang == 'fa' else 'en'}"))
