"""The clinic's tables: people, exams, devices, referrals, bookings, reports and the outbox."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import Base, UTCDateTime


class Modality(StrEnum):
    """An imaging modality; the values are DICOM modality codes (``MR``, ``CR``…)."""

    CT = "CT"
    MRI = "MR"
    RADIOGRAPHY = "CR"
    ULTRASOUND = "US"
    MAMMOGRAPHY = "MG"
    FLUOROSCOPY = "RF"
    BONE_DENSITOMETRY = "BMD"


class Sex(StrEnum):
    """A patient's sex (some screening questions are for women only)."""

    FEMALE = "female"
    MALE = "male"


class Registrar(StrEnum):
    """Who registered a patient: the patient, a health worker or staff."""

    SELF = "self"
    HEALTH_WORKER = "health_worker"
    STAFF = "staff"


class Platform(StrEnum):
    """The chat platform of an account: Telegram or Bale."""

    TELEGRAM = "telegram"
    BALE = "bale"


class Role(StrEnum):
    """What a staff member may do; one staff member may hold several roles."""

    ADMIN = "admin"
    RECEPTION = "reception"
    REPORTING = "reporting"
    BROADCASTER = "broadcaster"


class ActorKind(StrEnum):
    """Who acted, as the audit trail and the ``created_by`` columns record it."""

    PATIENT = "patient"
    HEALTH_WORKER = "health_worker"
    STAFF = "staff"
    SYSTEM = "system"
    # A Telegram or Bale account not yet known to be anyone (a failed /link); its id and
    # platform are in the audit row's details, since the ids do not fit ``actor_id``.
    CHAT_ACCOUNT = "chat_account"


class Insurer(StrEnum):
    """Who pays for a referral's exam (remembered on the patient for the next one)."""

    TAMIN = "tamin"  # Tamin Ejtemaei (social security)
    SALAMAT = "salamat"  # Iran Health Insurance
    ARMED_FORCES = "armed_forces"
    OTHER = "other"
    NONE = "none"


class ReferralSource(StrEnum):
    """How a referral came: an e-prescription's tracking code or a paper one's file."""

    EPRESCRIPTION = "eprescription"
    PAPER = "paper"


class ReferralStatus(StrEnum):
    """Where a referral stands: awaiting staff review, approved, rejected or withdrawn."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the patient (or their health worker) no longer wants it


class BookingStatus(StrEnum):
    """A booking's state, from a hold through confirmation and check-in to its end."""

    HELD = "held"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"
    EXPIRED = "expired"


ACTIVE_BOOKING = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)


class WaitlistStatus(StrEnum):
    """A waitlist entry's state: waiting, offered a place, booked, cancelled or lapsed."""

    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"  # the wanted-before date passed


class ReportStatus(StrEnum):
    """How far the hospital is with an exam's report: images ready, final, corrected."""

    PENDING = "pending"
    IMAGES_READY = "images_ready"
    FINAL = "final"
    CORRECTED = "corrected"


class OutboxStatus(StrEnum):
    """An outbox message's delivery state."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BroadcastStatus(StrEnum):
    """A broadcast is a draft until staff send it; then its messages are queued."""

    DRAFT = "draft"
    QUEUED = "queued"


_E = TypeVar("_E", bound=StrEnum)


def _enum(cls: type[_E], length: int) -> Enum:
    """A column of ``cls`` members stored as their values in a VARCHAR(``length``), exactly as
    a String(``length``) column would store them: no CHECK constraint, no native enum type.
    Reads give back members; writes take members (or their values, checked)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _id() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


class HealthHouse(Base):
    """A rural health house, where health workers register and book patients."""

    __tablename__ = "health_houses"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(120))
    village: Mapped[str] = mapped_column(String(120), default="")
    county: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")


class HealthWorker(Base):
    """A health worker of a health house, who books for the patients they register."""

    __tablename__ = "health_workers"
    id: Mapped[int] = _id()
    house_id: Mapped[int] = mapped_column(ForeignKey("health_houses.id"))
    full_name: Mapped[str] = mapped_column(String(120))
    mobile: Mapped[str] = mapped_column(String(11))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    bale_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Staff(Base):
    """A member of the imaging department's staff, with their roles and chat accounts."""

    __tablename__ = "staff"
    id: Mapped[int] = _id()
    full_name: Mapped[str] = mapped_column(String(120))
    mobile: Mapped[str | None] = mapped_column(String(11))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    bale_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    roles: Mapped[list[StaffRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", back_populates="staff"
    )


class StaffRole(Base):
    """One role held by one staff member."""

    __tablename__ = "staff_roles"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role, 20), primary_key=True)
    staff: Mapped[Staff] = relationship(lazy="raise", back_populates="roles")


class Patient(Base):
    """A patient, known by national code, and who registered them."""

    __tablename__ = "patients"
    id: Mapped[int] = _id()
    national_code: Mapped[str] = mapped_column(String(10), unique=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    birth_year: Mapped[int] = mapped_column(SmallInteger)  # Jalali year
    sex: Mapped[Sex] = mapped_column(_enum(Sex, 10))
    language: Mapped[str] = mapped_column(String(5), default="fa")
    # remembered for the next referral
    insurer: Mapped[Insurer | None] = mapped_column(_enum(Insurer, 20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_via: Mapped[str | None] = mapped_column(String(20))
    registered_by: Mapped[Registrar] = mapped_column(_enum(Registrar, 20))
    registered_by_id: Mapped[int | None] = mapped_column(Integer)
    health_worker_id: Mapped[int | None] = mapped_column(ForeignKey("health_workers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatAccount(Base):
    """A Telegram or Bale account that may act for a patient (one's own, or a family member's)."""

    __tablename__ = "chat_accounts"
    __table_args__ = (UniqueConstraint("platform", "user_id", "patient_id"),)
    id: Mapped[int] = _id()
    platform: Mapped[Platform] = mapped_column(_enum(Platform, 10))
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    is_self: Mapped[bool] = mapped_column(Boolean, default=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Exam(Base):
    """An exam of the catalogue, with its preparation steps and screening questions."""

    __tablename__ = "exams"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_fa: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    modality: Mapped[Modality] = mapped_column(_enum(Modality, 5), index=True)
    body_part: Mapped[str] = mapped_column(String(60))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    contrast: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_hours: Mapped[list[int] | None] = mapped_column(JSON)  # overrides the default
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    preparation: Mapped[list[PrepStep]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PrepStep.position"
    )
    screening: Mapped[list[ExamScreening]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExamScreening.position"
    )


class PrepStep(Base):
    """One preparation instruction; ``hours_before`` set means it gets a timed reminder."""

    __tablename__ = "prep_steps"
    id: Mapped[int] = _id()
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(20))  # fasting, water, lab, metal, bring, other
    text_fa: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    hours_before: Mapped[float | None] = mapped_column()


class ScreeningQuestion(Base):
    """A safety question; ``blocking_answer`` is the answer that rules the exam out for now."""

    __tablename__ = "screening_questions"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    text_fa: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    blocking_answer: Mapped[bool | None] = mapped_column(Boolean)  # None: informative only
    female_only: Mapped[bool] = mapped_column(Boolean, default=False)
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)


class ExamScreening(Base):
    """A screening question asked before one exam, in its place in the list."""

    __tablename__ = "exam_screening"
    exam_id: Mapped[int] = mapped_column(
        ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("screening_questions.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    question: Mapped[ScreeningQuestion] = relationship(lazy="raise")


class Device(Base):
    """An imaging device: its room, slot length, places per slot and working hours."""

    __tablename__ = "devices"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    modality: Mapped[Modality] = mapped_column(_enum(Modality, 5), index=True)
    room: Mapped[str] = mapped_column(String(60), default="")
    room_en: Mapped[str] = mapped_column(String(60), default="", server_default="")
    slot_minutes: Mapped[int] = mapped_column(SmallInteger)
    places_per_slot: Mapped[int] = mapped_column(SmallInteger, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hours: Mapped[list[WorkingHours]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="WorkingHours.weekday"
    )

    def room_in(self, lang: str) -> str:
        """Where the device is, in ``lang`` (English falls back to the Persian name)."""
        return (self.room_en or self.room) if lang == "en" else self.room


class WorkingHours(Base):
    """One shift; weekday 0 is Saturday, 6 is Friday (the Iranian week)."""

    __tablename__ = "working_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)
    id: Mapped[int] = _id()
    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class DeviceExam(Base):
    """An exam that a device can do."""

    __tablename__ = "device_exams"
    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    exam_id: Mapped[int] = mapped_column(
        ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True
    )


class Closure(Base):
    """Staff closed a device (or, with no device, the whole department) for a range."""

    __tablename__ = "closures"
    id: Mapped[int] = _id()
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason_fa: Mapped[str] = mapped_column(Text, default="")
    reason_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DayOverride(Base):
    """Staff re-opened a day the holiday calendar marks, or closed one it does not."""

    __tablename__ = "day_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Referral(Base):
    """A patient's referral for one exam: approved at once, or when staff review it."""

    __tablename__ = "referrals"
    id: Mapped[int] = _id()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    source: Mapped[ReferralSource] = mapped_column(_enum(ReferralSource, 20))
    tracking_code: Mapped[str | None] = mapped_column(String(40))
    insurer: Mapped[Insurer] = mapped_column(_enum(Insurer, 20))
    file_ref: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(60))
    file_size: Mapped[int | None] = mapped_column(Integer)
    screening_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, 20), index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by: Mapped[ActorKind] = mapped_column(_enum(ActorKind, 20))
    submitted_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlotUsage(Base):
    """Places taken in one slot of one device; the CHECK makes overbooking impossible."""

    __tablename__ = "slot_usage"
    __table_args__ = (
        CheckConstraint("used >= 0 AND used <= capacity", name="within_capacity"),
        # Covers the day list's sums (clinic/free_places.py): no table visit per row.
        Index("ix_slot_usage_places", "device_id", "starts_at", "used", "capacity"),
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    used: Mapped[int] = mapped_column(SmallInteger, default=0)
    capacity: Mapped[int] = mapped_column(SmallInteger)


class SlotDay(Base):
    """One device's counter rows on one Tehran day, in total: kept with every change to them
    (``clinic.day_counts``), so the day list need not read each row of a busy horizon."""

    __tablename__ = "slot_days"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)  # counter rows
    places_left: Mapped[int] = mapped_column(Integer)  # their capacity - used, summed
    first_start: Mapped[datetime] = mapped_column(UTCDateTime())  # the earliest row's slot
    last_start: Mapped[datetime] = mapped_column(UTCDateTime())  # the latest row's slot


class Booking(Base):
    """A patient's booking of one or more consecutive slots of a device for a referral;
    a hold until it is confirmed. ``code`` is the one the patient reads out at reception."""

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_device_start", "device_id", "starts_at"),)
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(12), unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    slots: Mapped[int] = mapped_column(SmallInteger, default=1)  # consecutive slots occupied
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, 20), index=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    waitlist_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist.id"))
    closure_id: Mapped[int | None] = mapped_column(ForeignKey("closures.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[ActorKind] = mapped_column(_enum(ActorKind, 20))
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WaitlistEntry(Base):
    """A patient waiting for a place for a referral's exam before ``wanted_before``."""

    __tablename__ = "waitlist"
    id: Mapped[int] = _id()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    wanted_before: Mapped[date] = mapped_column(Date)
    status: Mapped[WaitlistStatus] = mapped_column(_enum(WaitlistStatus, 20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WaitlistOffer(Base):
    """A place offered to a waitlist entry; never offered to the same entry twice."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (UniqueConstraint("entry_id", "device_id", "starts_at"),)
    id: Mapped[int] = _id()
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(20))  # taken, lapsed


class Report(Base):
    """An exam's report at the hospital, by accession number, and how far it is."""

    __tablename__ = "reports"
    id: Mapped[int] = _id()
    accession_number: Mapped[str] = mapped_column(String(64), unique=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus, 20))
    pickup_code: Mapped[str] = mapped_column(String(12))
    images_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UnmatchedEvent(Base):
    """A hospital event we could not join to a booking; kept for staff, never dropped."""

    __tablename__ = "unmatched_events"
    id: Mapped[int] = _id()
    source: Mapped[str] = mapped_column(String(20))  # his, hl7, pacs, staff
    kind: Mapped[str] = mapped_column(String(30))
    accession_number: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class OutboxMessage(Base):
    """A notification to deliver; written in the transaction of the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = _id()
    recipient_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, 20))
    recipient_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, 20))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SMS only: the gateway's ``provider:message_id`` and the delivery state it last reported.
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    delivery_state: Mapped[str | None] = mapped_column(String(20))
    delivery_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who did what to which record, and when; ``details`` never holds personal data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = _id()
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, 20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ChatConversation(Base):
    """A chat front end's conversation state, so progress survives a restart."""

    __tablename__ = "chat_conversations"
    platform: Mapped[Platform] = mapped_column(_enum(Platform, 10), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)  # JSON of the PTB key tuple
    state: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatUserData(Base):
    """A chat user's draft (ids and choices only, never message text)."""

    __tablename__ = "chat_user_data"
    platform: Mapped[Platform] = mapped_column(_enum(Platform, 10), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedUpdate(Base):
    """Update ids already handled, so a re-delivered update is not acted on twice."""

    __tablename__ = "chat_processed_updates"
    platform: Mapped[Platform] = mapped_column(_enum(Platform, 10), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LinkCode(Base):
    """A one-time code a staff member or health worker types in the bot to link their account.

    Only an HMAC-SHA256 of the code is kept (``code_hash``), never the code. At most one code
    per person is open (neither used nor revoked): issuing a new one revokes the others.
    """

    __tablename__ = "link_codes"
    __table_args__ = (
        Index(
            "ix_link_codes_one_open",
            "kind",
            "target_id",
            unique=True,
            sqlite_where=text("used_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("used_at IS NULL AND revoked_at IS NULL"),
        ),
    )
    id: Mapped[int] = _id()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # staff, health_worker
    target_id: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)  # the issuing staff member
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(SmallInteger, default=0)  # failed bindings


class LinkThrottle(Base):
    """Failed /link tries of one chat account (``scope`` is its platform) in the current window,
    and its lockout; the row ``("all", 0)`` counts failures department-wide."""

    __tablename__ = "link_throttles"
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Broadcast(Base):
    """A staff message to an audience; its outbox rows carry ``broadcast:<id>:`` keys."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = _id()
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[BroadcastStatus] = mapped_column(_enum(BroadcastStatus, 20))
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventCursor(Base):
    """How far an event source has been read (Orthanc's /changes sequence number)."""

    __tablename__ = "event_cursors"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    # What the source said at ``value`` (Orthanc: "ChangeType:ID"), to notice a replaced source.
    marker: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RejectedMessage(Base):
    """A hospital message we could not read or would not accept; kept for staff to inspect."""

    __tablename__ = "rejected_messages"
    id: Mapped[int] = _id()
    source: Mapped[str] = mapped_column(String(20))  # his, hl7, pacs
    reason: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class SendBucket(Base):
    """One bot's shared send budget: a token bucket every process sending for it draws on."""

    __tablename__ = "send_buckets"
    bot: Mapped[str] = mapped_column(String(40), primary_key=True)  # platform:bot id
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)  # Unix time the tokens were counted at
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)  # the platform said wait


class WebhookReceipt(Base):
    """A signed webhook request already accepted; a second one with this signature is a replay."""

    __tablename__ = "webhook_receipts"
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SetupVersion(Base):
    """One row counting changes to the department's setup (exams, preparation, screening,
    devices, hours): every process keeps its copy of the setup until the count moves
    (clinic/department_setup.py)."""

    __tablename__ = "setup_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
