"""The clinic's tables: people, exams, devices, referrals, bookings, reports and the outbox.

One module per part of the clinic (``people``, ``catalogue``, ``booking``, ``results``,
``messaging``, ``chat``, ``audit``) and their column values in ``enums``. Importing this package
registers every table on ``clinic.db.Base``, so the relationships between modules resolve by
class name; import the names from here (``from clinic.models import Booking``)."""

from __future__ import annotations

from clinic.models.audit import AuditEntry
from clinic.models.booking import (
    Booking,
    Referral,
    SlotDay,
    SlotUsage,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic.models.catalogue import (
    Closure,
    DayOverride,
    Device,
    DeviceExam,
    Exam,
    ExamScreening,
    PrepStep,
    ScreeningQuestion,
    SetupVersion,
    WorkingHours,
)
from clinic.models.chat import (
    ChatConversation,
    ChatUserData,
    LinkCode,
    LinkThrottle,
    ProcessedUpdate,
)
from clinic.models.enums import (
    ACTIVE_BOOKING,
    ActorKind,
    BookingStatus,
    BroadcastStatus,
    Insurer,
    Modality,
    OutboxStatus,
    Platform,
    ReferralSource,
    ReferralStatus,
    Registrar,
    ReportStatus,
    Role,
    Sex,
    WaitlistStatus,
)
from clinic.models.messaging import Broadcast, OutboxMessage, SendBucket
from clinic.models.people import ChatAccount, HealthHouse, HealthWorker, Patient, Staff, StaffRole
from clinic.models.results import (
    EventCursor,
    RejectedMessage,
    Report,
    UnmatchedEvent,
    WebhookReceipt,
)

__all__ = [
    "ACTIVE_BOOKING",
    "ActorKind",
    "AuditEntry",
    "Booking",
    "BookingStatus",
    "Broadcast",
    "BroadcastStatus",
    "ChatAccount",
    "ChatConversation",
    "ChatUserData",
    "Closure",
    "DayOverride",
    "Device",
    "DeviceExam",
    "EventCursor",
    "Exam",
    "ExamScreening",
    "HealthHouse",
    "HealthWorker",
    "Insurer",
    "LinkCode",
    "LinkThrottle",
    "Modality",
    "OutboxMessage",
    "OutboxStatus",
    "Patient",
    "Platform",
    "PrepStep",
    "ProcessedUpdate",
    "Referral",
    "ReferralSource",
    "ReferralStatus",
    "Registrar",
    "RejectedMessage",
    "Report",
    "ReportStatus",
    "Role",
    "ScreeningQuestion",
    "SendBucket",
    "SetupVersion",
    "Sex",
    "SlotDay",
    "SlotUsage",
    "Staff",
    "StaffRole",
    "UnmatchedEvent",
    "WaitlistEntry",
    "WaitlistOffer",
    "WaitlistStatus",
    "WebhookReceipt",
    "WorkingHours",
]
