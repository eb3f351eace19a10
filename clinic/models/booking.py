"""Referrals and what is booked for them: the slot counters, bookings and the waitlist."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import (
    ActorKind,
    BookingChannel,
    BookingStatus,
    Insurer,
    ReferralSource,
    ReferralStatus,
    WaitlistStatus,
    _enum,
    _id,
)


class Referral(Base):
    """A patient's referral for one exam: approved at once, or when staff review it."""

    __tablename__ = "referrals"
    id: Mapped[int] = _id()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    # The site the patient chose for it (clinic/sites.py); its bookings are made there.
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
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
    __table_args__ = (
        Index("ix_bookings_device_start", "device_id", "starts_at"),
        # One number per ticket in a device's queue on a day (a walk-in's).
        Index("ux_bookings_ticket", "device_id", "ticket_day", "ticket", unique=True),
    )
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
    channel: Mapped[BookingChannel] = mapped_column(
        _enum(BookingChannel, 16), default=BookingChannel.CHAT, server_default="chat"
    )
    # A walk-in's ticket: its number in the device's queue that Tehran day (clinic/walk_ins.py).
    ticket: Mapped[int | None] = mapped_column(SmallInteger)
    ticket_day: Mapped[date | None] = mapped_column(Date)
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
