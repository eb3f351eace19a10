"""The audit trail: who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime
from clinic.models.enums import ActorKind, _enum, _id


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


class AuditSeal(Base):
    """The hash chain over the audit log (clinic/audit_chain.py): an entry's digest, taken
    with the one sealed before it, so an edited, deleted or slipped-in entry shows."""

    __tablename__ = "audit_seals"
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
