"""Staff members and their roles, health houses and their health workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic import audit
from clinic.actors import Actor
from clinic.errors import InvalidInput, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.identity import parse_mobile
from clinic.models import HealthHouse, HealthWorker, Platform, Role, Staff, StaffRole, StaffSite
from clinic.sites import all_sites
from clinic.text import normalize_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from clinic.uow import UnitOfWork


def parse_roles(raw: Iterable[str]) -> set[Role]:
    """Role names (admin, reception, reporting, broadcaster) or InvalidInput."""
    roles = set()
    for name in raw:
        name = name.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            raise InvalidInput(N_("Unknown role: {role}."), role=name) from None
    if not roles:
        raise InvalidInput(N_("Give at least one role."))
    return roles


FULL_NAME_MAX = 120


def _full_name(raw: str) -> str:
    name = normalize_text(raw)
    if not name or len(name) > FULL_NAME_MAX:
        raise InvalidInput(N_("Please give a name (at most {n} letters)."), n=FULL_NAME_MAX)
    return name


async def add_staff(
    uow: UnitOfWork,
    actor: Actor,
    *,
    full_name: str,
    roles: Iterable[str],
    mobile: str | None = None,
    telegram_user_id: int | None = None,
    bale_user_id: int | None = None,
    sites: Iterable[str] = (),
) -> Staff:
    """Add a staff member with roles (admins only), held to ``sites`` (``hospital/department``
    keys; none: university-wide, which only a university-wide admin may grant; an admin held
    to sites who names none adds a member of their own sites). Raises NotAllowed,
    InvalidInput, NotFound (an unknown site)."""
    actor = actor.require_role(Role.ADMIN)
    named = [k for k in sites if k.strip()]
    held = await _site_ids(uow, actor, named) if named or actor.sites is None else []
    if not named and actor.sites is not None:
        held = sorted(actor.sites)
    member = Staff(
        full_name=_full_name(full_name),
        mobile=parse_mobile(mobile) if mobile else None,
        telegram_user_id=telegram_user_id,
        bale_user_id=bale_user_id,
        created_at=uow.clock.now(),
        roles=[StaffRole(role=r) for r in sorted(parse_roles(roles))],
        sites=[StaffSite(department_id=i) for i in held],
    )
    uow.session.add(member)
    await uow.session.flush()
    await audit.record(
        uow, actor, "staff.add", "staff", member.id, roles=sorted(member_roles(member)),
        sites=held,
    )  # fmt: skip
    return member


async def _site_ids(uow: UnitOfWork, actor: Actor, keys: Iterable[str]) -> list[int]:
    """The ids of the sites named ``hospital/department``; an admin held to some sites may
    only grant those (and must grant one). Raises NotFound, NotAllowed."""
    known = {s.key: s.id for s in await all_sites(uow)}
    wanted = [k.strip().lower() for k in keys if k.strip()]
    for key in wanted:
        if key not in known:
            raise NotFound(N_("There is no site {site}."), site=key)
    ids = sorted({known[k] for k in wanted})
    if actor.sites is not None and (not ids or not set(ids) <= actor.sites):
        raise NotAllowed()
    return ids


async def set_staff_sites(
    uow: UnitOfWork, actor: Actor, staff_id: int, keys: Iterable[str], role: str | None = None
) -> Staff:
    """Hold a staff member's roles (with ``role``: that one of them) to these sites (none:
    every site, or for ``role`` the member's other roles' sites). Admins only; an admin held
    to some sites manages only staff of theirs. Raises NotAllowed, NotFound, InvalidInput (an
    unknown role)."""
    actor = actor.require_role(Role.ADMIN)
    which = next(iter(parse_roles([role]))).value if role else ""
    held = await _site_ids(uow, actor, keys) if keys or actor.sites is None else []
    if not held and actor.sites is not None:
        raise NotAllowed()  # a site's admin may not make anyone university-wide
    member = await staff_member(uow, staff_id)
    if member is None:
        raise NotFound()
    theirs = {s.department_id for s in member.sites}
    if actor.sites is not None and not (theirs and theirs <= actor.sites):
        raise NotFound()
    kept = [s for s in member.sites if s.role != which]
    member.sites = [
        *kept,
        *(StaffSite(staff_id=member.id, department_id=i, role=which) for i in held),
    ]
    await audit.record(
        uow, actor, "staff.sites", "staff", member.id, sites=held, role=which or None
    )
    return member


async def set_staff_mobile(uow: UnitOfWork, actor: Actor, staff_id: int, mobile: str) -> Staff:
    """Record a staff member's mobile (link codes need it). Raises NotAllowed, NotFound,
    InvalidMobile."""
    actor = actor.require_role(Role.ADMIN)
    member = await uow.session.get(Staff, staff_id)
    if member is None:
        raise NotFound()
    member.mobile = parse_mobile(mobile)
    await audit.record(uow, actor, "staff.mobile", "staff", member.id)
    return member


def member_roles(member: Staff) -> set[str]:
    """Role names of a staff member whose roles are loaded."""
    return {r.role for r in member.roles}


async def set_roles(uow: UnitOfWork, actor: Actor, staff_id: int, roles: Iterable[str]) -> Staff:
    """Replace a staff member's roles; an empty list deactivates them."""
    actor = actor.require_role(Role.ADMIN)
    member = await uow.session.scalar(
        select(Staff).where(Staff.id == staff_id).options(selectinload(Staff.roles))
    )
    if member is None:
        raise NotFound()
    wanted = list(roles)
    member.roles = [StaffRole(role=r) for r in sorted(parse_roles(wanted))] if wanted else []
    member.active = bool(wanted)
    await audit.record(uow, actor, "staff.roles", "staff", member.id, roles=sorted(wanted))
    return member


async def staff_member(uow: UnitOfWork, staff_id: int) -> Staff | None:
    """A staff member by id with their roles (active or not), for the operator's commands."""
    member: Staff | None = await uow.session.scalar(
        select(Staff)
        .where(Staff.id == staff_id)
        .options(selectinload(Staff.roles), selectinload(Staff.sites))
    )
    return member


async def staff_actor(uow: UnitOfWork, platform: Platform, user_id: int) -> Actor | None:
    """The staff actor behind a chat account, with roles read now (None if not staff)."""
    column = Staff.telegram_user_id if platform is Platform.TELEGRAM else Staff.bale_user_id
    member = await uow.session.scalar(
        select(Staff)
        .where(column == user_id, Staff.active.is_(True))
        .options(selectinload(Staff.roles), selectinload(Staff.sites))
    )
    if member is None or not member.roles:
        return None
    return member_actor(member)


def member_actor(member: Staff) -> Actor:
    """The actor of a staff member whose roles and sites are loaded."""
    return actor_of(
        member.id,
        [r.role for r in member.roles],
        [(s.role, s.department_id) for s in member.sites],
    )


def actor_of(staff_id: int, roles: Iterable[Role], held: Iterable[tuple[str, int]]) -> Actor:
    """The staff actor from its roles and its (role or "", site) rows."""
    every = [site for role, site in held if not role]
    own: dict[Role, list[int]] = {}
    for role, site in held:
        if role:
            own.setdefault(Role(role), []).append(site)
    return Actor.staff(staff_id, roles, every, own)


async def health_houses(uow: UnitOfWork) -> list[HealthHouse]:
    """Every health house, by name."""
    return list(await uow.session.scalars(select(HealthHouse).order_by(HealthHouse.name)))


async def add_health_house(
    uow: UnitOfWork, actor: Actor, *, name: str, village: str = "", county: str = ""
) -> HealthHouse:
    """Register a rural health house (admins only)."""
    actor = actor.require_role(Role.ADMIN)
    house = HealthHouse(
        name=_full_name(name), village=normalize_text(village), county=normalize_text(county)
    )
    uow.session.add(house)
    await uow.session.flush()
    await audit.record(uow, actor, "health_house.add", "health_house", house.id)
    return house


async def add_health_worker(
    uow: UnitOfWork, actor: Actor, *, house_id: int, full_name: str, mobile: str
) -> HealthWorker:
    """Add a health worker (بهورز) to a health house (admins only)."""
    actor = actor.require_role(Role.ADMIN)
    if await uow.session.get(HealthHouse, house_id) is None:
        raise NotFound()
    worker = HealthWorker(
        house_id=house_id,
        full_name=_full_name(full_name),
        mobile=parse_mobile(mobile),
        created_at=uow.clock.now(),
    )
    uow.session.add(worker)
    await uow.session.flush()
    await audit.record(uow, actor, "health_worker.add", "health_worker", worker.id)
    return worker
