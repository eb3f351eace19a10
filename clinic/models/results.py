"""What the hospital's systems tell us: reports, events and messages we could not use, how far
a source has been read and the webhook requests already accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import ReportStatus, _enum, _id


class Report(Base):
    """An exam's report at the hospital, by accession number, and how far it is."""

    __tablename__ = "reports"
    # Each hospital's RIS numbers its own exams: a number is unique within its site only.
    __table_args__ = (UniqueConstraint("site_id", "accession_number"),)
    id: Mapped[int] = _id()
    site_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0: no sites
    accession_number: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus, 20))
    pickup_code: Mapped[str] = mapped_column(String(12), index=True)
    images_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Handed over at the results desk (clinic/handover.py): when, by which staff member, to
    # the patient or to someone they sent ("proxy"), with reception's note (who, which ID).
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collected_by: Mapped[int | None] = mapped_column(Integer)  # a staff id
    collected_to: Mapped[str | None] = mapped_column(String(10))
    collected_note: Mapped[str | None] = mapped_column(Text)


class UnmatchedEvent(Base):
    """A hospital event we could not join to a booking; kept for staff, never dropped."""

    __tablename__ = "unmatched_events"
    id: Mapped[int] = _id()
    site_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as Report's
    source: Mapped[str] = mapped_column(String(20))  # his, hl7, pacs, staff
    kind: Mapped[str] = mapped_column(String(30))
    accession_number: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class RejectedMessage(Base):
    """A hospital message we could not read or would not accept; kept for staff to inspect."""

    __tablename__ = "rejected_messages"
    id: Mapped[int] = _id()
    # The site whose system sent it, when known (None: only university-wide staff see it).
    site_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # his, hl7, pacs
    reason: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class EventCursor(Base):
    """How far an event source has been read (Orthanc's /changes sequence number)."""

    __tablename__ = "event_cursors"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    # What the source said at ``value`` (Orthanc: "ChangeType:ID"), to notice a replaced source.
    marker: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookReceipt(Base):
    """A signed webhook request already accepted; a second one with this signature is a replay."""

    __tablename__ = "webhook_receipts"
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
