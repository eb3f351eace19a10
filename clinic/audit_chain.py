"""The audit log as a hash chain: each entry, once sealed, carries the SHA-256 of its own
content together with the hash of the entry sealed before it (``audit_seals``), so that an
entry edited, deleted or slipped in behind the seal afterwards shows when the chain is checked
(``radyar audit verify``). The tables are append-only by trigger as well (migration 0019).

Entries are sealed in id order by the housekeeping round (and ``radyar audit verify --seal``),
once they are a minute old: a transaction still open with a lower id commits before then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from clinic.models import AuditEntry, AuditSeal

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

GENESIS = "0" * 64
SETTLE = timedelta(minutes=1)
BATCH = 1000
_LOCK = 0x5241_4459  # "RADY": one sealer at a time on PostgreSQL


def digest(entry: AuditEntry, prev_hash: str) -> str:
    """The entry's hash: its every field, in a fixed form, after the previous hash."""
    body = json.dumps(
        [
            entry.id, str(entry.actor_kind), entry.actor_id, entry.action, entry.entity,
            entry.entity_id, entry.details, entry.at.isoformat(), prev_hash,
        ],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )  # fmt: skip
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def _head(uow: UnitOfWork) -> tuple[int, str]:
    last = await uow.session.scalar(select(func.max(AuditSeal.entry_id)))
    if last is None:
        return 0, GENESIS
    found = await uow.session.scalar(select(AuditSeal.hash).where(AuditSeal.entry_id == last))
    return int(last), found or GENESIS


async def seal(uow: UnitOfWork, limit: int = BATCH, settle: timedelta = SETTLE) -> int:
    """Seal the entries after the last sealed one that are ``settle`` old; how many. The
    caller commits."""
    if uow.dialect == "postgresql":
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    last_id, last_hash = await _head(uow)
    now = uow.clock.now()
    entries = await uow.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.id > last_id, AuditEntry.at <= now - settle)
        .order_by(AuditEntry.id)
        .limit(limit)
    )
    sealed = 0
    for entry in entries:
        new_hash = digest(entry, last_hash)
        uow.session.add(
            AuditSeal(entry_id=entry.id, prev_hash=last_hash, hash=new_hash, sealed_at=now)
        )
        last_hash = new_hash
        sealed += 1
    return sealed


@dataclass
class Verdict:
    """What checking the chain found."""

    sealed: int = 0
    unsealed: int = 0
    changed: list[int] = field(default_factory=list)  # entries whose content no longer hashes
    missing: list[int] = field(default_factory=list)  # sealed entries no longer there
    broken: list[int] = field(default_factory=list)  # seals not following the one before
    slipped_in: list[int] = field(default_factory=list)  # unsealed entries behind the seal

    @property
    def intact(self) -> bool:
        """Nothing was changed, removed or slipped in."""
        return not (self.changed or self.missing or self.broken or self.slipped_in)


async def verify(uow: UnitOfWork) -> Verdict:
    """Check every seal against its entry and the one before it."""
    verdict = Verdict()
    seals = await uow.session.scalars(select(AuditSeal).order_by(AuditSeal.entry_id))
    entries = {
        e.id: e for e in await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    }
    prev = GENESIS
    last_id = 0
    for row in seals:
        verdict.sealed += 1
        last_id = row.entry_id
        if row.prev_hash != prev:
            verdict.broken.append(row.entry_id)
        entry = entries.pop(row.entry_id, None)
        if entry is None:
            verdict.missing.append(row.entry_id)
        elif digest(entry, row.prev_hash) != row.hash:
            verdict.changed.append(row.entry_id)
        prev = row.hash
    for entry_id in sorted(entries):
        verdict.unsealed += 1
        if entry_id < last_id:
            verdict.slipped_in.append(entry_id)
    return verdict


__all__ = ["GENESIS", "Verdict", "digest", "seal", "verify"]
