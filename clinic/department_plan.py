"""What a department file asks for, against what is on record: each site the file names with
its row (matched by hospital and department code), the active exams and the devices of those
sites, or every problem found, by line (clinic/department_import.py writes the plan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.department_export import department_names
from clinic.department_file import (
    DepartmentFileError,
    DepartmentSpec,
    DeviceSpec,
    HospitalSpec,
    parse_department_file,
)
from clinic.models import Department, Device, Exam

if TYPE_CHECKING:
    from clinic.catalogue_files import Problem
    from clinic.uow import UnitOfWork

KEEP_IT = "keep it in the file (active: false retires it)"
MIGRATED = ("hospital", "radiology")  # the codes migration 0015 gave a department without a file


@dataclass(frozen=True)
class Place:
    """A site the file names, with its row on record."""

    hospital: HospitalSpec
    department: DepartmentSpec
    row: Department | None  # the site on record (None: the import adds it)


@dataclass(frozen=True)
class Plan:
    """The import to make: the file's sites, the active exams, the devices on record."""

    places: tuple[Place, ...]
    exams: dict[str, tuple[int, str]]  # code: id, modality
    devices: dict[str, Device]  # the database's of the file's sites, by code

    @property
    def specs(self) -> dict[str, DeviceSpec]:
        """The file's devices, by code."""
        return {d.code: d for p in self.places for d in p.department.devices}


async def plan_import(uow: UnitOfWork, text: str, fmt: str) -> Plan:
    """The plan of ``text`` (YAML, or ``fmt`` csv). Raises DepartmentFileError with every
    problem: the file's own, exams not in the catalogue, devices left out or of another site."""
    names = await department_names(uow) if fmt == "csv" else None
    hospitals, problems = parse_department_file(text, fmt=fmt, names=names)
    if problems or not hospitals:
        raise DepartmentFileError(problems or [(1, "the file names no hospital")])
    places = await _places(uow, hospitals)
    rows = await uow.session.execute(select(Exam.code, Exam.id, Exam.modality, Exam.active))
    exams = {code: (exam_id, str(modality)) for code, exam_id, modality, active in rows if active}
    every = {d.code: d for d in await uow.session.scalars(select(Device))}
    ours = {p.row.id for p in places if p.row is not None}
    lone = (
        len(places) == 1
        and (await uow.session.scalar(select(func.count(Department.id))) or 0) <= 1
    )
    site_of = {d.code: p for p in places for d in p.department.devices}
    keys = {row.id: f"{row.hospital_code}/{row.code}" for row in await _rows(uow)}
    for code, device in every.items():
        place, at = site_of.get(code), device.department_id
        if place is None and (at in ours or (at is None and lone)):
            problems.append(
                (1, f"device {code} is in the database but not in the file: {KEEP_IT}")
            )
        elif place is not None and at is not None and (place.row is None or at != place.row.id):
            spec = next(d for d in place.department.devices if d.code == code)
            there = keys.get(at, "another site")
            problems.append((spec.line, f"device {code} is {there}'s: a device stays at its site"))
    for place in places:
        _check_exams(place.department, exams, problems)
    if problems:
        raise DepartmentFileError(problems)
    devices = {code: d for code, d in every.items() if code in site_of}
    return Plan(places, exams, devices)


def _check_exams(
    department: DepartmentSpec, exams: dict[str, tuple[int, str]], problems: list[Problem]
) -> None:
    for spec in department.devices:
        for code, line in zip(spec.exams or (), spec.exam_lines, strict=True):
            if code not in exams:
                problems.append((line, f"there is no exam {code} in the catalogue"))
            elif exams[code][1] != spec.modality:
                problems.append((line, f"exam {code} is {exams[code][1]}, not {spec.modality}"))


async def _rows(uow: UnitOfWork) -> list[Department]:
    return list(await uow.session.scalars(select(Department).order_by(Department.id)))


async def _places(uow: UnitOfWork, hospitals: tuple[HospitalSpec, ...]) -> tuple[Place, ...]:
    """The file's sites, each with its row on record. A file naming one site under other codes
    than the only site on record renames it when it lists that site's devices (or the site
    still has the codes the migration gave it); otherwise it adds a site."""
    rows = await _rows(uow)
    by_key = {(r.hospital_code, r.code): r for r in rows}
    named = [(h, d) for h in hospitals for d in h.departments]
    if len(named) == 1 and len(rows) == 1 and (named[0][0].code, named[0][1].code) not in by_key:
        only = rows[0]
        theirs = set(
            await uow.session.scalars(
                select(Device.code).where(
                    (Device.department_id == only.id) | Device.department_id.is_(None)
                )
            )
        )
        listed = {d.code for d in named[0][1].devices}
        if listed & theirs or (only.hospital_code, only.code) == MIGRATED:
            return (Place(named[0][0], named[0][1], only),)
    return tuple(Place(h, d, by_key.get((h.code, d.code))) for h, d in named)
