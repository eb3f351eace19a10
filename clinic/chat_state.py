"""Chat front-end state in the clinic database: conversations, drafts, processed updates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.models import ChatConversation, ChatUserData, ProcessedUpdate
from clinic.uow import UnitOfWork

KEEP_UPDATES = timedelta(days=2)


async def conversations(uow: UnitOfWork, platform: str, name: str) -> dict[str, Any]:
    """Every stored state of conversation ``name``, by its JSON key."""
    rows = await uow.session.scalars(
        select(ChatConversation).where(
            ChatConversation.platform == platform, ChatConversation.name == name
        )
    )
    return {row.key: row.state for row in rows}


async def save_conversation(
    uow: UnitOfWork, platform: str, name: str, key: str, state: Any
) -> None:
    """Store (or, with ``state`` None, forget) one conversation's state."""
    await uow.session.execute(
        delete(ChatConversation).where(
            ChatConversation.platform == platform,
            ChatConversation.name == name,
            ChatConversation.key == key,
        )
    )
    if state is not None:
        uow.session.add(
            ChatConversation(
                platform=platform, name=name, key=key, state=state, updated_at=uow.clock.now()
            )
        )


async def user_data(uow: UnitOfWork, platform: str) -> dict[int, dict[str, Any]]:
    """Every chat user's stored draft."""
    rows = await uow.session.scalars(select(ChatUserData).where(ChatUserData.platform == platform))
    return {row.user_id: dict(row.data) for row in rows}


async def save_user_data(
    uow: UnitOfWork, platform: str, user_id: int, data: dict[str, Any] | None
) -> None:
    """Store (or, with ``data`` None, forget) one chat user's draft."""
    await uow.session.execute(
        delete(ChatUserData).where(
            ChatUserData.platform == platform, ChatUserData.user_id == user_id
        )
    )
    if data:
        uow.session.add(
            ChatUserData(platform=platform, user_id=user_id, data=data, updated_at=uow.clock.now())
        )


async def first_time(uow: UnitOfWork, platform: str, update_id: int) -> bool:
    """Record ``update_id``; False if it was processed before (a re-delivery)."""
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    result = await uow.session.execute(
        insert(ProcessedUpdate)
        .values(platform=platform, update_id=update_id, processed_at=uow.clock.now())
        .on_conflict_do_nothing(index_elements=["platform", "update_id"])
    )
    await uow.session.execute(
        delete(ProcessedUpdate).where(
            ProcessedUpdate.processed_at < uow.clock.now() - KEEP_UPDATES
        )
    )
    return getattr(result, "rowcount", 0) == 1
