"""Who works here, for the operator's lists: staff and health workers as small frozen rows.

Mobiles are masked (the operator sees whether one is on record and its last digits, enough to
tell two people apart on the phone), and chat accounts show only whether one is linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.identity import mask_mobile
from clinic.models import HealthHouse, HealthWorker, Staff
from clinic.sites import all_sites

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class StaffRow:
    """A staff member: roles, masked mobile, which messengers are linked."""

    id: int
    full_name: str
    roles: tuple[str, ...]
    mobile: str  # masked; "" when none is on record
    linked: tuple[str, ...]  # "telegram", "bale"
    active: bool
    sites: tuple[str, ...] = ()  # hospital/department keys; none: university-wide


@dataclass(frozen=True)
class HealthWorkerRow:
    """A health worker and their health house."""

    id: int
    full_name: str
    house: str
    village: str
    county: str
    mobile: str  # masked
    linked: tuple[str, ...]
    active: bool


def _linked(telegram: int | None, bale: int | None) -> tuple[str, ...]:
    return tuple(name for name, uid in (("telegram", telegram), ("bale", bale)) if uid)


async def staff_rows(uow: UnitOfWork) -> list[StaffRow]:
    """Every staff member, by id."""
    members = await uow.session.scalars(
        select(Staff)
        .options(selectinload(Staff.roles), selectinload(Staff.sites))
        .order_by(Staff.id)
    )
    keys = {s.id: s.key for s in await all_sites(uow)}
    return [
        StaffRow(
            m.id,
            m.full_name,
            tuple(sorted(str(r.role) for r in m.roles)),
            mask_mobile(m.mobile) if m.mobile else "",
            _linked(m.telegram_user_id, m.bale_user_id),
            m.active,
            tuple(sorted(_held(s.role, keys.get(s.department_id, "?")) for s in m.sites)),
        )
        for m in members
    ]


def _held(role: str, key: str) -> str:
    return f"{key} ({role})" if role else key


async def health_worker_rows(uow: UnitOfWork) -> list[HealthWorkerRow]:
    """Every health worker with their house, by house and name."""
    rows = await uow.session.execute(
        select(HealthWorker, HealthHouse)
        .join(HealthHouse, HealthHouse.id == HealthWorker.house_id)
        .order_by(HealthHouse.name, HealthWorker.full_name, HealthWorker.id)
    )
    return [
        HealthWorkerRow(
            w.id,
            w.full_name,
            h.name,
            h.village,
            h.county,
            mask_mobile(w.mobile),
            _linked(w.telegram_user_id, w.bale_user_id),
            w.active,
        )
        for w, h in rows.tuples()
    ]
