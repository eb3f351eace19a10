"""Sites: the imaging departments of the university's hospitals one deployment serves, how
patients reach each, and which of them a staff member may see and act on.

A site is a ``departments`` row; a device, a referral and a report belong to one. Staff with
no sites on record are university-wide. A staff member held to some sites who names a record
of another gets NotFound, the answer for a record that does not exist, so that forged presses
learn nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, true

from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.models import ActorKind, Booking, Department, Device, Referral

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import InstrumentedAttribute

    from clinic.actors import Actor
    from clinic.policy import Department as Details
    from clinic.uow import UnitOfWork

NO_SITE = 0  # a report's site where the deployment has no sites on record


@dataclass(frozen=True)
class Site:
    """A site as patients and staff see it: its names, county and contact details."""

    id: int
    hospital_code: str
    code: str
    county: str
    his_facility: str
    details: Details  # name, address, phone, hours, where results are collected
    hospital_fa: str = ""
    hospital_en: str = ""

    @property
    def key(self) -> str:
        """``hospital/department``, as files and commands name the site."""
        return f"{self.hospital_code}/{self.code}"

    def name(self, lang: str) -> str:
        """The site's full name in ``lang``."""
        return self.details.text("name", lang)

    def hospital(self, lang: str) -> str:
        """The hospital's name in ``lang`` (English falls back to the Persian)."""
        return (self.hospital_en or self.hospital_fa) if lang == "en" else self.hospital_fa


def _site(row: Department, fallback: Details) -> Site:
    own: dict[str, Any] = {
        "name_fa": f"{row.name_fa} {row.hospital_name_fa}".strip(),
        "name_en": ", ".join(n for n in (row.name_en, row.hospital_name_en) if n),
        "address_fa": row.address_fa,
        "address_en": row.address_en,
        "phone": row.phone,
        "hours_fa": row.hours_fa,
        "hours_en": row.hours_en,
        "pickup_fa": row.pickup_fa,
        "pickup_en": row.pickup_en,
    }
    details = replace(fallback, **{k: v for k, v in own.items() if v})
    return Site(
        row.id, row.hospital_code, row.code, row.county, row.his_facility, details,
        row.hospital_name_fa, row.hospital_name_en,
    )  # fmt: skip


async def all_sites(uow: UnitOfWork) -> list[Site]:
    """Every site, in the order they were set up (the first is the one a single-department
    deployment had); details the file leaves out come from the deployment's settings."""
    rows = await uow.session.scalars(select(Department).order_by(Department.id))
    return [_site(row, uow.department) for row in rows]


async def site(uow: UnitOfWork, site_id: int | None) -> Site | None:
    """The site ``site_id`` (None when there is none such)."""
    row = await uow.session.get(Department, site_id) if site_id else None
    return _site(row, uow.department) if row is not None else None


async def details(uow: UnitOfWork, site_id: int | None) -> Details:
    """How patients reach the site ``site_id`` (None: the only site, if there is one): its
    own details, else the deployment's."""
    found = await site(uow, site_id)
    if found is None and site_id is None:
        every = await all_sites(uow)
        found = every[0] if len(every) == 1 else None
    return found.details if found is not None else uow.department


async def device_site(uow: UnitOfWork, device_id: int) -> int | None:
    """The site a device belongs to (from the setup this process keeps: no query of its own)."""
    device = (await department_setup(uow)).devices.get(device_id)
    return device.site if device is not None else None


async def require_device_site(uow: UnitOfWork, actor: Actor, device_id: int) -> None:
    """``require_site`` for the site of a device, read only for staff held to sites."""
    if actor.kind is ActorKind.STAFF and actor.sites is not None:
        require_site(actor, await device_site(uow, device_id))


def may_act_at(actor: Actor, site_id: int | None) -> bool:
    """Whether ``actor`` may see and act on a record of ``site_id`` (everyone but staff held
    to other sites)."""
    if actor.kind is not ActorKind.STAFF or actor.sites is None:
        return True
    return site_id is not None and site_id in actor.sites


def require_site(actor: Actor, site_id: int | None) -> None:
    """Raise NotFound unless ``actor`` may act at ``site_id`` (as for a record not there)."""
    if not may_act_at(actor, site_id):
        raise NotFound()


def in_scope(
    actor: Actor, column: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows whose ``column`` (a site id) ``actor`` may see."""
    if actor.kind is not ActorKind.STAFF or actor.sites is None:
        return true()
    return column.in_(sorted(actor.sites))


def site_devices(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``Device`` keeping the devices of the sites ``actor`` may see."""
    return in_scope(actor, Device.department_id)


async def scoped_site_ids(uow: UnitOfWork, actor: Actor) -> list[int]:
    """The ids of the sites ``actor`` may see, in order."""
    ids = await uow.session.scalars(select(Department.id).order_by(Department.id))
    return [i for i in ids if may_act_at(actor, i)]


async def notice_site(uow: UnitOfWork, params: Mapping[str, Any]) -> tuple[Site | None, int]:
    """The site a notice is about (its device's, its booking's or its referral's), and how
    many sites there are (with one, notices need not name it)."""
    count = int(await uow.session.scalar(select(func.count(Department.id))) or 0)
    site_id: int | None = None
    if "device_id" in params:
        site_id = await device_site(uow, int(params["device_id"]))
    elif "booking_id" in params:
        site_id = await uow.session.scalar(
            select(Device.department_id)
            .join(Booking, Booking.device_id == Device.id)
            .where(Booking.id == int(params["booking_id"]))
        )
    elif "referral_id" in params:
        site_id = await uow.session.scalar(
            select(Referral.department_id).where(Referral.id == int(params["referral_id"]))
        )
    return await site(uow, site_id), count


async def pacs_sources(uow: UnitOfWork) -> list[tuple[str, str, str]]:
    """(Orthanc URL, HIS name, hospital code) of each hospital with an Orthanc of its own."""
    rows = await uow.session.execute(
        select(Department.orthanc_url, Department.his_facility, Department.hospital_code)
        .where(Department.orthanc_url != "")
        .order_by(Department.id)
    )
    found: dict[str, tuple[str, str, str]] = {}
    for url, his, hospital in rows.tuples():
        found.setdefault(url, (url, his, hospital))
    return list(found.values())


async def his_site(uow: UnitOfWork, facility: str | None) -> int | None:
    """The site whose HIS/RIS calls itself ``facility`` (HL7 MSH-4, the webhook's ``site``),
    matched without case; without one, the only site. None: not a site we know."""
    name = (facility or "").strip().split("^")[0].strip().lower()
    rows = list(await uow.session.execute(select(Department.id, Department.his_facility)))
    if name:
        for site_id, his in rows:
            if his and his.strip().lower() == name:
                return int(site_id)
    if len(rows) <= 1:
        return int(rows[0][0]) if rows else NO_SITE
    return None


__all__ = [
    "NO_SITE",
    "Site",
    "all_sites",
    "details",
    "device_site",
    "his_site",
    "in_scope",
    "may_act_at",
    "notice_site",
    "pacs_sources",
    "require_device_site",
    "require_site",
    "scoped_site_ids",
    "site",
    "site_devices",
]
