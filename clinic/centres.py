"""The centres a patient may choose for an exam: the sites that do it, each with its earliest
free day, those of the patient's own county first, then the earliest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.availability import bookable_days
from clinic.department_setup import department_setup
from clinic.models import HealthHouse, HealthWorker
from clinic.sites import Site, all_sites
from clinic.text import normalize_text

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork


@dataclass(frozen=True)
class Centre:
    """A site that does the exam, its earliest day with a free place (None: none within the
    horizon) and whether it is in the county asked about."""

    site: Site
    earliest: date | None
    near: bool


def _county(raw: str | None) -> str:
    return normalize_text(raw or "").replace("\u200c", "").replace(" ", "")


async def centres_for(uow: UnitOfWork, exam_id: int, county: str | None = None) -> list[Centre]:
    """Every site that does the exam, in the order to offer them: in ``county`` first, then by
    earliest free day (sites with none last). Raises NotFound for an exam not active."""
    setup = await department_setup(uow)
    doing = {d.site for d in setup.devices_for(exam_id)}
    home = _county(county)
    found = []
    for site in await all_sites(uow):
        if site.id not in doing:
            continue
        days = await bookable_days(uow, exam_id, site=site.id)
        near = bool(home) and _county(site.county) == home
        found.append(Centre(site, days[0].day if days else None, near))
    found.sort(key=lambda c: (not c.near, c.earliest is None, c.earliest or date.max, c.site.id))
    return found


async def worker_county(uow: UnitOfWork, actor: Actor) -> str | None:
    """The county of a health worker's health house (None: not known)."""
    county = await uow.session.scalar(
        select(HealthHouse.county)
        .join(HealthWorker, HealthWorker.house_id == HealthHouse.id)
        .where(HealthWorker.id == actor.id)
    )
    return county or None


async def sites_doing(uow: UnitOfWork, exam_id: int) -> int:
    """How many sites do the exam (more than one: the patient chooses)."""
    setup = await department_setup(uow)
    return len({d.site for d in setup.devices_for(exam_id) if d.site is not None})


__all__ = ["Centre", "centres_for", "sites_doing", "worker_county"]
