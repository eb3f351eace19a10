"""Write the sites as they stand as a department file: importing it changes nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import func, select

from clinic.department_csv import write_department_csv
from clinic.department_file import ALL_EXAMS, SITE_DETAILS, WEEKDAYS
from clinic.errors import NotFound
from clinic.jalali import jalali_iso, to_tehran
from clinic.models import (
    Closure,
    Department,
    Device,
    DeviceExam,
    Exam,
    KeptPlaces,
    WorkingHours,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork

HEADER = """\
# A Radyar department file: `radyar department check|import FILE`.
# Days are the Iranian week (sat … fri, or their Persian names); hours are Tehran time.
# exams: all means every exam of the device's modality; closed lists the closures ahead.
"""


class _Flow(list[str]):
    """A short list written on one line: ``[sat, sun, mon]``."""


class _Dumper(yaml.SafeDumper):
    """Block style, except for ``_Flow`` lists."""


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)
_UNNAMED = {"hospital_code": "hospital", "hospital_name_fa": "بیمارستان", "hospital_name_en": ""}
_UNNAMED_DEPARTMENT = {"code": "radiology", "name_fa": "بخش تصویربرداری", "name_en": ""}


async def department_names(uow: UnitOfWork, site: str | None = None) -> dict[str, str]:
    """The codes and names on record of the site ``site`` (``hospital/department``; None: the
    first), placeholders if none."""
    return _names(await _site_row(uow, site))


async def _site_row(uow: UnitOfWork, site: str | None) -> Department | None:
    stmt = select(Department).order_by(Department.id).limit(1)
    if site is not None:
        hospital, _, code = site.partition("/")
        stmt = stmt.where(Department.hospital_code == hospital, Department.code == code)
    found: Department | None = await uow.session.scalar(stmt)
    if found is None and site is not None:
        raise NotFound()
    return found


async def export_department(uow: UnitOfWork, *, fmt: str = "yaml", site: str | None = None) -> str:
    """The department file of what the database holds (every site, or only ``site``, as
    ``hospital/department``: devices by code, closures ahead); with ``fmt`` "csv", one site's
    devices (the first's unless ``site``), one a row. Raises NotFound for an unknown site."""
    rows = list(await uow.session.scalars(select(Department).order_by(Department.id)))
    first = rows[0].id if rows else None
    if fmt == "csv" or site is not None:
        row = await _site_row(uow, site)
        rows = [row] if row is not None else []
    if fmt == "csv":
        wanted = rows[0].id if rows else None
        return write_department_csv(await _devices(uow, wanted, wanted == first))
    hospitals: dict[str, dict[str, Any]] = {}
    listed: list[Department | None] = [*rows] or [None]  # None: no site on record yet
    for row in listed:
        named = _names(row)
        hospital = hospitals.setdefault(
            named["hospital_code"],
            _some(
                code=named["hospital_code"],
                name_fa=named["hospital_name_fa"],
                name_en=named["hospital_name_en"],
                county=row.county if row else "",
                his_facility=row.his_facility if row else "",
                orthanc_url=row.orthanc_url if row else "",
            )
            | {"departments": []},
        )
        site_id = row.id if row else None
        department = _some(
            code=named["code"], name_fa=named["name_fa"], name_en=named["name_en"],
            **{name: getattr(row, name) if row else "" for name in SITE_DETAILS},
        )  # fmt: skip
        department["devices"] = await _devices(uow, site_id, site_id == first)
        department["closed"] = await _closed(uow, site_id, site_id == first)
        hospital["departments"].append(department)
    body = yaml.dump(
        {"hospitals": list(hospitals.values())},
        Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
    )  # fmt: skip
    return HEADER + body


async def _devices(uow: UnitOfWork, site_id: int | None, first: bool) -> list[dict[str, Any]]:
    """The site's devices (the first site's include those set up before there were sites)."""
    at = Device.department_id == site_id
    if first or site_id is None:
        at = at | Device.department_id.is_(None)
    stmt = select(Device).where(at).order_by(Device.code)
    return [await _device(uow, d) for d in await uow.session.scalars(stmt)]


def _names(row: Department | None) -> dict[str, str]:
    if row is None:
        return {**_UNNAMED, **_UNNAMED_DEPARTMENT}
    return {
        "hospital_code": row.hospital_code,
        "hospital_name_fa": row.hospital_name_fa,
        "hospital_name_en": row.hospital_name_en,
        "code": row.code,
        "name_fa": row.name_fa,
        "name_en": row.name_en,
    }


def _some(**values: object) -> dict[str, Any]:
    """The fields that are set (an empty optional field is left out)."""
    return {k: v for k, v in values.items() if v not in ("", None)}


async def _device(uow: UnitOfWork, device: Device) -> dict[str, Any]:
    out = _some(
        code=device.code,
        modality=str(device.modality),
        name_fa=device.name_fa,
        name_en=device.name_en,
        room_fa=device.room,
        room_en=device.room_en,
        floor=device.floor,
        slot_minutes=device.slot_minutes,
        places_per_slot=device.places_per_slot,
    )
    out["exams"] = await _exams(uow, device)
    out["shifts"] = await _shifts(uow, device.id)
    kept = await uow.session.scalars(
        select(KeptPlaces).where(KeptPlaces.device_id == device.id).order_by(KeptPlaces.keep)
    )
    kept_back = [{"for": str(k.keep), "places": k.places, "per": str(k.per)} for k in kept]
    if kept_back:
        out["kept_back"] = kept_back
    if not device.active:
        out["active"] = False
    return out


async def _exams(uow: UnitOfWork, device: Device) -> str | _Flow:
    done = set(
        await uow.session.scalars(
            select(Exam.code)
            .join(DeviceExam, DeviceExam.exam_id == Exam.id)
            .where(DeviceExam.device_id == device.id, Exam.active.is_(True))
        )
    )
    every = set(
        await uow.session.scalars(
            select(Exam.code).where(Exam.modality == device.modality, Exam.active.is_(True))
        )
    )
    return ALL_EXAMS if done == every else _Flow(sorted(done))


async def _shifts(uow: UnitOfWork, device_id: int) -> list[dict[str, _Flow]]:
    rows = await uow.session.execute(
        select(WorkingHours.weekday, WorkingHours.starts, WorkingHours.ends)
        .where(WorkingHours.device_id == device_id)
        .order_by(WorkingHours.weekday, WorkingHours.starts)
    )
    by_day: dict[int, list[str]] = {}
    for weekday, starts, ends in rows:
        by_day.setdefault(weekday, []).append(f"{starts:%H:%M}-{ends:%H:%M}")
    groups: dict[tuple[str, ...], list[str]] = {}  # the same hours on several days: one shift
    for weekday in sorted(by_day):
        groups.setdefault(tuple(by_day[weekday]), []).append(WEEKDAYS[weekday])
    return [{"days": _Flow(days), "hours": _Flow(hours)} for hours, days in groups.items()]


async def _closed(uow: UnitOfWork, site_id: int | None, first: bool) -> list[dict[str, str]]:
    """The site's closures ahead; every site's are written with the first site's."""
    site = func.coalesce(Device.department_id, Closure.department_id)
    at = site == site_id
    if first or site_id is None:
        at = at | site.is_(None)
    rows = await uow.session.execute(
        select(Closure, Device.code)
        .outerjoin(Device, Device.id == Closure.device_id)
        .where(Closure.cancelled_at.is_(None), Closure.ends_at > uow.clock.now(), at)
        .order_by(Closure.starts_at, Closure.id)
    )
    closed = []
    for closure, code in rows.tuples():
        starts, ends = to_tehran(closure.starts_at), to_tehran(closure.ends_at)
        whole_days = starts.time() == time.min and ends.time() == time.min
        begin, last = (
            (jalali_iso(starts.date()), jalali_iso((ends - timedelta(days=1)).date()))
            if whole_days
            else (_moment(starts), _moment(ends))
        )
        entry = {"from": begin, "to": last}
        if code is not None:
            entry["device"] = code
        entry |= _some(reason_fa=closure.reason_fa, reason_en=closure.reason_en)
        closed.append(entry)
    return closed


def _moment(moment: datetime) -> str:
    return f"{jalali_iso(moment.date())} {moment:%H:%M}"
