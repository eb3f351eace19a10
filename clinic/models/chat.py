"""The chat front ends' state: conversations, drafts, handled updates and account linking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import Platform, _enum, _id


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


class ChatForget(Base):
    """A chat user whose draft and conversation states were deleted from the database by
    another unit of work (retention, erasure): a running bot forgets what it holds in memory
    for them (``bot.forget``). Ids only; deleted a day later (``clinic.retention``)."""

    __tablename__ = "chat_forget"
    __table_args__ = (Index("ix_chat_forget_platform_id", "platform", "id"),)
    id: Mapped[int] = _id()
    platform: Mapped[Platform] = mapped_column(_enum(Platform, 10))
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


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
    and its lockout; the row ``("all", 0)`` counts failures department-wide. Other kinds of
    try (one-time SMS codes, pickup codes, the SMS codes cost) are counted here under scopes
    of their own (``clinic.link_limits.Kind``)."""

    __tablename__ = "link_throttles"
    # A platform name for /link codes; other kinds of try prefix theirs (clinic.link_limits).
    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityCheck(Base):
    """A one-time SMS code sent to prove who holds a mobile before a national code is claimed
    (``clinic.identity_checks``): by a chat account registering itself or a family member, or
    by a health worker with the patient beside them.

    The code itself is kept nowhere: it is an HMAC of ``salt`` under the link-code key, worked
    out again when it is sent and when it is typed. The national code is kept only as a keyed
    digest. Deleted a day after it expired (``clinic.retention``).
    """

    __tablename__ = "identity_checks"
    __table_args__ = (Index("ix_identity_checks_asker", "asker_scope", "asker_id"),)
    id: Mapped[int] = _id()
    purpose: Mapped[str] = mapped_column(String(20))  # self, family, health_worker
    asker_scope: Mapped[str] = mapped_column(String(20))  # a platform, or health_worker
    asker_id: Mapped[int] = mapped_column(BigInteger)  # the chat user id, or the worker's id
    national_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The record on file when the code was sent (None: a new record), and where it went.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    mobile: Mapped[str] = mapped_column(String(11))
    language: Mapped[str] = mapped_column(String(5), default="fa")
    salt: Mapped[str] = mapped_column(String(32))
    sends: Mapped[int] = mapped_column(SmallInteger, default=1)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)  # wrong codes typed
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
