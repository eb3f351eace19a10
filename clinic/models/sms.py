"""Answers by SMS reply: the questions our SMS asked, and every SMS a patient's phone sent us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import _id


class SmsQuestion(Base):
    """A one-digit question an SMS asked a mobile number: a reminder (1 = coming, 2 = cancel),
    a waitlist offer (1 = take it, 2 = no thanks), or which of a family's bookings an answer
    was for (``choice``: ``options`` are question ids in the order listed, ``pending`` the
    answer waiting to be applied to the one chosen)."""

    __tablename__ = "sms_questions"
    __table_args__ = (Index("ix_sms_questions_open", "mobile", "answered_at", "asked_at"),)
    id: Mapped[int] = _id()
    mobile: Mapped[str] = mapped_column(String(11))  # 09xxxxxxxxx
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    kind: Mapped[str] = mapped_column(String(10))  # reminder, offer, choice
    outbox_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # the SMS that asked
    options: Mapped[list[int] | None] = mapped_column(JSON)
    pending: Mapped[str | None] = mapped_column(String(10))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(String(20))  # what came of it


class InboundSms(Base):
    """An SMS a phone sent to one of our lines, kept once per gateway message id (a gateway may
    hand one over twice), with what came of it. The number is kept to match it to a question;
    it is never logged."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id"),
        Index("ix_inbound_sms_mobile", "mobile", "received_at"),
    )
    id: Mapped[int] = _id()
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str] = mapped_column(String(20))  # 09xxxxxxxxx, or as sent when not a mobile
    line: Mapped[str] = mapped_column(String(20), default="")  # our number it was sent to
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the gateway's time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))  # clinic.sms_replies.Outcome
    question_id: Mapped[int | None] = mapped_column(ForeignKey("sms_questions.id"))
