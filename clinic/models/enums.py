"""The values the clinic's columns hold (statuses, kinds, roles…) and the column helpers
that store them: ``_enum`` and ``_id`` are for the model modules of this package only."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Enum, Integer
from sqlalchemy.orm import Mapped, mapped_column


class Modality(StrEnum):
    """An imaging modality; the values are DICOM modality codes (``MR``, ``CR``…)."""

    CT = "CT"
    MRI = "MR"
    RADIOGRAPHY = "CR"
    ULTRASOUND = "US"
    MAMMOGRAPHY = "MG"
    FLUOROSCOPY = "RF"
    BONE_DENSITOMETRY = "BMD"


class Keep(StrEnum):
    """Whom places kept back on a device are for: patients cannot book them themselves."""

    WALK_IN = "walk_in"  # the same-day queue at the desk
    INPATIENT = "inpatient"  # the wards' patients
    URGENT = "urgent"  # the emergency department's and urgent outpatients


class KeepPer(StrEnum):
    """Places kept back in every slot, or in all of a day."""

    SLOT = "slot"
    DAY = "day"


class Sex(StrEnum):
    """A patient's sex (some screening questions are for women only)."""

    FEMALE = "female"
    MALE = "male"


class Registrar(StrEnum):
    """Who registered a patient: the patient, a health worker, staff or a family member."""

    SELF = "self"
    HEALTH_WORKER = "health_worker"
    STAFF = "staff"
    FAMILY = "family"  # a family member, from their own chat account (clinic/family.py)


class Relation(StrEnum):
    """What a family member is to the chat account's holder who acts for them."""

    PARENT = "parent"
    CHILD = "child"
    SPOUSE = "spouse"
    SIBLING = "sibling"
    OTHER = "other"


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


class BookingChannel(StrEnum):
    """How a booking was made; a booking moved by the department keeps its first channel."""

    CHAT = "chat"  # the patient, in Telegram or Bale
    HEALTH_WORKER = "health_worker"  # a rural health worker, for their patient
    DESK = "desk"  # reception, the patient in front of them
    PHONE = "phone"  # reception, the patient on the telephone
    WALK_IN = "walk_in"  # the same-day queue at the desk

    @property
    def electronic(self) -> bool:
        """Whether the Ministry counts it as booked electronically (not at the desk or phone)."""
        return self in (BookingChannel.CHAT, BookingChannel.HEALTH_WORKER)


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
    EXPIRED = "expired"  # a reminder not delivered while it was of use: sent by neither channel


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
