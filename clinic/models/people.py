"""The people the clinic knows: health houses and their workers, staff and their roles,
patients and the chat accounts that act for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import Base, UTCDateTime
from clinic.models.enums import (
    Insurer,
    Platform,
    Registrar,
    Relation,
    Role,
    Sex,
    _enum,
    _id,
)


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
    # The sites the member works at; none: university-wide (clinic/sites.py).
    sites: Mapped[list[StaffSite]] = relationship(lazy="raise", cascade="all, delete-orphan")


class StaffRole(Base):
    """One role held by one staff member."""

    __tablename__ = "staff_roles"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role, 20), primary_key=True)
    staff: Mapped[Staff] = relationship(lazy="raise", back_populates="roles")


class StaffSite(Base):
    """A site one of a staff member's roles holds at (``role`` empty: all of them).

    A role with rows of its own holds at those sites; any other role at the rows without a
    role; with no rows at all the member is university-wide (clinic/sites.py)."""

    __tablename__ = "staff_sites"
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True, default="", server_default="")


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
    # Appointments missed without cancelling, and how many of them staff forgave when they
    # lifted the block on booking in chat (clinic/no_shows.py).
    # Where the patient lives, as far as we know (their health house's, or the site they
    # chose): centres in it are offered first.
    county: Mapped[str | None] = mapped_column(String(120))
    no_shows: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    no_shows_forgiven: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
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
    # What the patient is to the account's holder, for a family member's account (not is_self).
    relation: Mapped[Relation | None] = mapped_column(_enum(Relation, 10))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
