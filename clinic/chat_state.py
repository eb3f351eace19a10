"""Chat front-end state in the clinic database: conversations, drafts, processed updates."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic.models import ChatConversation, ChatUserData, Platform, ProcessedUpdate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from clinic.uow import UnitOfWork

KEEP_UPDATES = timedelta(days=2)


async def conversations(uow: UnitOfWork, platform: Platform, name: str) -> dict[str, Any]:
    """Every stored state of conversation ``name``, by its JSON key."""
    rows = await uow.session.scalars(
        select(ChatConversation).where(
            ChatConversation.platform == platform, ChatConversation.name == name
        )
    )
    return {row.key: row.state for row in rows}


async def user_data(uow: UnitOfWork, platform: Platform) -> dict[int, dict[str, Any]]:
    """Every chat user's stored draft."""
    rows = await uow.session.scalars(select(ChatUserData).where(ChatUserData.platform == platform))
    return {row.user_id: dict(row.data) for row in rows}


async def save(
    uow: UnitOfWork,
    platform: Platform,
    conversations: Mapping[tuple[str, str], Any],
    drafts: Mapping[int, dict[str, Any] | None],
) -> None:
    """Store many conversation states (by name and JSON key) and drafts (by user) at once.

    A state of None, or an empty draft, forgets the row. Written as one upsert per table.
    """
    now = uow.clock.now()
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    keep = [
        {"platform": platform, "name": n, "key": k, "state": v, "updated_at": now}
        for (n, k), v in conversations.items()
        if v is not None
    ]
    if keep:
        stmt = insert(ChatConversation)
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["platform", "name", "key"],
                set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
            ),
            keep,
        )
    for (name, key), state in conversations.items():
        if state is None:
            await uow.session.execute(
                delete(ChatConversation).where(
                    ChatConversation.platform == platform,
                    ChatConversation.name == name,
                    ChatConversation.key == key,
                )
            )
    await _save_drafts(uow, platform, drafts, insert)


async def _save_drafts(
    uow: UnitOfWork, platform: Platform, drafts: Mapping[int, dict[str, Any] | None], insert: Any
) -> None:
    now = uow.clock.now()
    keep = [
        {"platform": platform, "user_id": user, "data": data, "updated_at": now}
        for user, data in drafts.items()
        if data
    ]
    if keep:
        stmt = insert(ChatUserData)
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["platform", "user_id"],
                set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
            ),
            keep,
        )
    gone = [user for user, data in drafts.items() if not data]
    if gone:
        await uow.session.execute(
            delete(ChatUserData).where(
                ChatUserData.platform == platform, ChatUserData.user_id.in_(gone)
            )
        )


async def first_time(uow: UnitOfWork, platform: Platform, update_id: int) -> bool:
    """Record ``update_id``; False if it was processed before (a re-delivery)."""
    return update_id in await first_times(uow, platform, [update_id])


async def first_times(uow: UnitOfWork, platform: Platform, update_ids: Sequence[int]) -> set[int]:
    """Record the updates ``update_ids`` (arriving together) in one statement; those not
    recorded before are returned."""
    wanted = sorted(set(update_ids))
    if not wanted:
        return set()
    params: dict[str, Any] = {"platform": platform, "now": uow.clock.now()}
    params.update({f"u{n}": update_id for n, update_id in enumerate(wanted)})
    # On the connection: through the session the insert would be an ORM bulk insert.
    connection = await uow.session.connection()
    result = await connection.execute(_record_updates(uow.dialect, len(wanted)), params)
    return set(result.scalars())


@lru_cache(maxsize=64)
def _record_updates(dialect: str, count: int) -> Executable:
    # Built once per batch size: building and hashing a statement costs about as much CPU as
    # running it.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    platform = bindparam("platform", type_=ProcessedUpdate.platform.type)
    now = bindparam("now", type_=ProcessedUpdate.processed_at.type)
    rows = [
        {"platform": platform, "update_id": bindparam(f"u{n}"), "processed_at": now}
        for n in range(count)
    ]
    return (
        insert(ProcessedUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        .returning(ProcessedUpdate.update_id)
    )


async def prune_processed(uow: UnitOfWork) -> int:
    """Forget processed update ids older than KEEP_UPDATES (no re-delivery comes that late)."""
    result = await uow.session.execute(
        delete(ProcessedUpdate).where(
            ProcessedUpdate.processed_at < uow.clock.now() - KEEP_UPDATES
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
