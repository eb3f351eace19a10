"""The department's setup: the exam catalogue with its preparation and screening, the devices
with their working hours, closures, day overrides and the setup's change counter."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import Base, UTCDateTime
from clinic.models.enums import Keep, KeepPer, Modality, _enum, _id


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


class Department(Base):
    """A site: one imaging department of one of the university's hospitals, as its file names
    it, with how patients reach it and who its hospital's systems say they are."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_code", "code"),)
    id: Mapped[int] = _id()
    hospital_code: Mapped[str] = mapped_column(String(40))
    hospital_name_fa: Mapped[str] = mapped_column(String(160))
    hospital_name_en: Mapped[str] = mapped_column(String(160), default="")
    code: Mapped[str] = mapped_column(String(40))
    name_fa: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    county: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The hospital's HIS/RIS as it names itself (HL7 MSH-4, the webhook's "site").
    his_facility: Mapped[str] = mapped_column(String(60), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    address_fa: Mapped[str] = mapped_column(String(300), default="", server_default="")
    address_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    hours_fa: Mapped[str] = mapped_column(String(300), default="", server_default="")
    hours_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    pickup_fa: Mapped[str] = mapped_column(String(300), default="", server_default="")
    pickup_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The hospital's Orthanc, polled for its studies (empty: RADYAR_ORTHANC_URL's, if any).
    orthanc_url: Mapped[str] = mapped_column(String(300), default="", server_default="")


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
    floor: Mapped[int | None] = mapped_column(SmallInteger)  # 0 the ground floor, -1 below it
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)  # its site
    hours: Mapped[list[WorkingHours]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="WorkingHours.weekday"
    )
    kept: Mapped[list[KeptPlaces]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="KeptPlaces.keep"
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


class KeptPlaces(Base):
    """Places of a device kept back (per slot or per day) for walk-ins, inpatients or urgent
    cases: booked by staff only."""

    __tablename__ = "kept_places"
    __table_args__ = (CheckConstraint("places > 0", name="places"),)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    keep: Mapped[Keep] = mapped_column(_enum(Keep, 12), primary_key=True)
    per: Mapped[KeepPer] = mapped_column(_enum(KeepPer, 4))
    places: Mapped[int] = mapped_column(SmallInteger)


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
    """Staff closed a device, or with no device a whole site (or every site), for a range."""

    __tablename__ = "closures"
    id: Mapped[int] = _id()
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    # A whole site's closure (no device); neither: every site (clinic/sites.py).
    department_id: Mapped[int | None] = mapped_column(Integer)
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


class SetupVersion(Base):
    """One row counting changes to the department's setup (exams, preparation, screening,
    devices, hours): every process keeps its copy of the setup until the count moves
    (clinic/department_setup.py)."""

    __tablename__ = "setup_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
