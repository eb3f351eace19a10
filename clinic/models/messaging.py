"""Messages going out: the outbox, staff broadcasts and each bot's shared send budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import ActorKind, BroadcastStatus, OutboxStatus, _enum, _id


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


class SendBucket(Base):
    """One bot's shared send budget: a token bucket every process sending for it draws on."""

    __tablename__ = "send_buckets"
    bot: Mapped[str] = mapped_column(String(40), primary_key=True)  # platform:bot id
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)  # Unix time the tokens were counted at
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)  # the platform said wait


class OutboundEvent(Base):
    """A booking change to tell a hospital system (``adapter``: hl7_siu, fhir), written in the
    change's own transaction; delivered in order per referral (a moved booking keeps it)."""

    __tablename__ = "outbound_events"
    __table_args__ = (
        Index("ix_outbound_due", "adapter", "status", "next_attempt_at"),
        Index("ix_outbound_referral", "adapter", "referral_id", "id"),
    )
    id: Mapped[int] = _id()
    adapter: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # clinic.outbound_views.OutboundKind
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    referral_id: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(Integer)  # who made the change, if staff
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, 20))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)  # what the receiver last said
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
