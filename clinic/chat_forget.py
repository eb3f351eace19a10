"""Telling running bots to forget chat users whose drafts were deleted by another process.

python-telegram-bot keeps each chat user's draft and conversation states in the bot's memory
and writes them back; deleting the rows (retention, a patient's erasure, from the CLI or the
housekeeping of ``radyar run``) does not reach that memory. Whoever deletes them also notes
the user here, in the same transaction (written just before it commits, so a row becomes
visible at most moments after its number was taken); every running bot polls for the rows
of its platform and forgets those users (``bot.forget``). Rows go a day later (retention).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select

from clinic.models import ChatForget, Platform

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from clinic.uow import UnitOfWork

KEEP = timedelta(days=1)
JOB = "chat_forget"


@dataclass
class _Marks:
    """The users a transaction deleted chat state of, noted just before it commits."""

    uow: UnitOfWork
    users: set[tuple[Platform, int]] = field(default_factory=set)

    async def __call__(self) -> None:
        if not self.users:
            return
        now = self.uow.clock.now()
        rows = [{"platform": p, "user_id": u, "at": now} for p, u in sorted(self.users)]
        await self.uow.session.execute(insert(ChatForget), rows)
        self.users = set()


def note(uow: UnitOfWork, users: Iterable[tuple[Platform | str, int]]) -> None:
    """Running bots are to forget ``users`` (platform, user id) once this transaction
    commits (a rollback forgets the note)."""
    marks = uow.job(JOB, lambda: _Marks(uow))
    marks.users.update((Platform(p), int(u)) for p, u in users)


def user_of_key(key: str) -> int | None:
    """The chat user a stored conversation key (JSON of python-telegram-bot's key tuple: per
    chat and user, or one id) is of; None for a key of another shape."""
    try:
        parts = json.loads(key)
    except ValueError:
        return None
    if not isinstance(parts, list) or not parts or len(parts) > 2:
        return None
    user = parts[-1]  # [chat, user], or [user] (a private chat's id is its user's)
    return user if isinstance(user, int) and not isinstance(user, bool) else None


async def since(uow: UnitOfWork, platform: Platform, after: int) -> list[tuple[int, int]]:
    """The rows of ``platform`` numbered above ``after``: (number, user id), in order."""
    rows = await uow.session.execute(
        select(ChatForget.id, ChatForget.user_id)
        .where(ChatForget.platform == platform, ChatForget.id > after)
        .order_by(ChatForget.id)
    )
    return [(int(n), int(u)) for n, u in rows.tuples()]


async def settled(uow: UnitOfWork, platform: Platform, before: datetime) -> int:
    """The highest number of ``platform``'s rows written before ``before`` (0: none)."""
    found = await uow.session.scalar(
        select(func.max(ChatForget.id)).where(
            ChatForget.platform == platform, ChatForget.at < before
        )
    )
    return int(found or 0)


async def prune(uow: UnitOfWork) -> int:
    """Delete the rows older than KEEP (every bot has long seen them)."""
    result = await uow.session.execute(
        delete(ChatForget).where(ChatForget.at < uow.clock.now() - KEEP)
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["KEEP", "note", "prune", "settled", "since", "user_of_key"]
