"""Who a chat account is: the patients it acts for, and the staff member or health worker on it.

The bot asks this for every update it serves (a role removed a moment ago must no longer
work), so it is one statement, built once per platform: four lookups joined with UNION ALL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import (
    Executable,
    Integer,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

from clinic.actors import Actor
from clinic.models import (
    ChatAccount,
    HealthWorker,
    Patient,
    Platform,
    Role,
    Staff,
    StaffRole,
    StaffSite,
)
from clinic.staff import actor_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class AccountPatient:
    """A patient the account may act for."""

    id: int
    language: str
    own: bool  # the account holder's own record (not a family member's)


@dataclass(frozen=True)
class ChatIdentity:
    """Everything the bot needs to know about the sender of an update."""

    patients: tuple[AccountPatient, ...] = ()  # the account's own first
    staff: Actor | None = None  # with the roles held right now
    worker: Actor | None = None

    @property
    def own(self) -> AccountPatient | None:
        """The patient the account acts for by default (its own record when it has one)."""
        return self.patients[0] if self.patients else None


async def chat_identity(uow: UnitOfWork, platform: Platform, user_id: int) -> ChatIdentity:
    """Read now who the chat account ``user_id`` on ``platform`` is."""
    return (await chat_identities(uow, platform, [user_id]))[user_id]


async def chat_identities(
    uow: UnitOfWork, platform: Platform, user_ids: Iterable[int]
) -> dict[int, ChatIdentity]:
    """``chat_identity`` of several accounts in one statement (updates arriving together)."""
    wanted = sorted(set(user_ids))
    # Plain columns, so on the connection: the ORM would add nothing but its own work.
    connection = await uow.session.connection()
    result = await connection.execute(_identity_query(platform), {"user_ids": wanted})
    rows: dict[int, list[tuple[str, int, str | None, int]]] = {user: [] for user in wanted}
    for user, kind, id_, detail, own in result.tuples():
        rows[user].append((kind, id_, detail, own))
    return {user: _identity(found) for user, found in rows.items()}


@cache
def _identity_query(platform: Platform) -> Executable:
    # Built once: building and hashing a statement costs about as much CPU as running it.
    telegram = platform is Platform.TELEGRAM
    staff_column = Staff.telegram_user_id if telegram else Staff.bale_user_id
    worker_column = HealthWorker.telegram_user_id if telegram else HealthWorker.bale_user_id
    text = String(20)
    user_ids = bindparam("user_ids", expanding=True, type_=ChatAccount.user_id.type)
    patients = (
        select(
            ChatAccount.user_id.label("user_id"),
            literal("patient", text).label("kind"),
            Patient.id.label("id"),
            Patient.language.label("detail"),
            cast(ChatAccount.is_self, Integer).label("own"),
        )
        .join(ChatAccount, ChatAccount.patient_id == Patient.id)
        .where(ChatAccount.platform == platform, ChatAccount.user_id.in_(user_ids))
    )
    staff = (
        select(
            staff_column,
            literal("staff", text),
            Staff.id,
            cast(StaffRole.role, text),
            literal(0, Integer),
        )
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(staff_column.in_(user_ids), Staff.active.is_(True))
    )
    # The sites the member is held to, one row each (the role, or "", and the site id).
    sites = (
        select(
            staff_column, literal("site", text), Staff.id, cast(StaffSite.role, text),
            StaffSite.department_id,
        )
        .join(StaffSite, StaffSite.staff_id == Staff.id)
        .where(staff_column.in_(user_ids), Staff.active.is_(True))
    )  # fmt: skip
    worker = select(
        worker_column,
        literal("worker", text),
        HealthWorker.id,
        cast(null(), text),
        literal(0, Integer),
    ).where(worker_column.in_(user_ids), HealthWorker.active.is_(True))
    return union_all(patients, staff, sites, worker)


def _identity(rows: Sequence[tuple[str, int, str | None, int]]) -> ChatIdentity:
    found = [
        AccountPatient(id_, detail or "fa", bool(own))
        for kind, id_, detail, own in rows
        if kind == "patient"
    ]
    found.sort(key=lambda p: (not p.own, p.id))
    roles = [(id_, Role(detail)) for kind, id_, detail, _ in rows if kind == "staff" and detail]
    workers = [id_ for kind, id_, _, _ in rows if kind == "worker"]
    held = [(detail or "", own) for kind, _, detail, own in rows if kind == "site"]
    staff = actor_of(roles[0][0], (role for _, role in roles), held) if roles else None
    worker = Actor.health_worker(workers[0]) if workers else None
    return ChatIdentity(tuple(found), staff, worker)
