"""Check a department file (YAML): its hospitals, each with its departments (the sites: their
names, contact details and closed dates) and their devices (``clinic.department_devices``);
a line for every problem.

The file names hospitals, each with its departments: every site of a university in one file,
or one file per site (an import changes the sites its file names and leaves the others be).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clinic.catalogue_files import Node, Problem, read_yaml
from clinic.department_csv import read_department_csv
from clinic.department_devices import (
    ALL_EXAMS,
    CODE,
    WEEKDAYS,
    DeviceSpec,
    KeptSpec,
    ShiftSpec,
    optional_text,
    parse_device,
)
from clinic.errors import ClinicError
from clinic.file_records import Record
from clinic.jalali import parse_jalali_date, tehran_datetime
from clinic.text import normalize_digits

_SITE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_SITE_SHAPE = "small Latin letters, digits, '-' or '_' (at most 40), like radiology"
_MOMENT = re.compile(r"(\S+)(?:\s+([0-9]{1,2}):([0-9]{2}))?")
_TOP = ("hospitals",)
_HOSPITAL = ("code", "name_fa", "name_en", "county", "his_facility", "orthanc_url", "departments")
_URL = re.compile(r"https?://[^\s/]+(?::[0-9]+)?(?:/\S*)?")
SITE_DETAILS = (
    "phone",
    "address_fa",
    "address_en",
    "hours_fa",
    "hours_en",
    "pickup_fa",
    "pickup_en",
)
_DEPARTMENT = ("code", "name_fa", "name_en", *SITE_DETAILS, "devices", "closed")
_CLOSED = ("from", "to", "device", "reason_fa", "reason_en")


class DepartmentFileError(ClinicError):
    """The file has problems; ``problems`` lists (1-based line, English message), by line."""

    code = "department_file_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__()


@dataclass(frozen=True)
class ClosedSpec:
    """A closed range of the department (``device`` None) or of one device, in Tehran time."""

    device: str | None
    starts_at: datetime
    ends_at: datetime
    reason_fa: str
    reason_en: str
    line: int


@dataclass(frozen=True)
class DepartmentSpec:
    """A department (a site): its devices, closed dates and how patients reach it (``details``:
    phone, address, hours and where results are collected, in fa and en; empty: not given)."""

    code: str
    name_fa: str
    name_en: str
    devices: tuple[DeviceSpec, ...]
    closed: tuple[ClosedSpec, ...]
    details: tuple[tuple[str, str], ...] = ()

    def detail(self, name: str) -> str:
        """The detail ``name`` (``phone``, ``address_fa`` …), empty when the file leaves it out."""
        return dict(self.details).get(name, "")


@dataclass(frozen=True)
class HospitalSpec:
    """A hospital, its county, its HIS/RIS's name for itself (HL7 MSH-4) and its departments."""

    code: str
    name_fa: str
    name_en: str
    departments: tuple[DepartmentSpec, ...]
    county: str = ""
    his_facility: str = ""
    orthanc_url: str = ""  # its PACS, polled for studies (empty: none of its own)


def parse_department_file(
    text: str, *, fmt: str = "yaml", names: dict[str, str] | None = None
) -> tuple[tuple[HospitalSpec, ...], list[Problem]]:
    """Every hospital the file defines, and every problem found, by line (none: all good).

    ``fmt`` "csv": the devices only, one a row (``clinic.department_csv``), under the
    hospital and department ``names`` on record.
    """
    if fmt == "csv":
        root, problems = read_department_csv(text, names or {})
    else:
        root, problems = read_yaml(text)
    if root is None:
        return (), problems
    top = Record(root, "the file", problems)
    top.only(_TOP)
    if top.shaped and "hospitals" not in top.fields:
        problems.append((1, "the file must list its hospitals (hospitals: …)"))
    nodes = top.items("hospitals")
    hospitals = [_hospital(n, problems) for n in nodes]
    found = tuple(h for h in hospitals if h is not None)
    placed = [(h, n.line) for h, n in zip(hospitals, nodes, strict=True) if h is not None]
    _once(problems, [(h.code, line) for h, line in placed], "hospital")
    facilities = [(h.his_facility.lower(), line) for h, line in placed if h.his_facility]
    _once(problems, facilities, "his_facility")
    devices = [(d.code, d.line) for h in found for p in h.departments for d in p.devices]
    _once(problems, devices, "device")
    return found, sorted(set(problems))


def _once(problems: list[Problem], named: list[tuple[str, int]], what: str) -> None:
    """A problem for each ``what`` named a second time (codes are the whole file's)."""
    first: dict[str, int] = {}
    for name, line in named:
        if name in first and first[name] != line:
            problems.append((line, f"{what} {name} is already on line {first[name]}"))
        first.setdefault(name, line)


def _hospital(node: Node, problems: list[Problem]) -> HospitalSpec | None:
    r = Record(node, "a hospital", problems)
    r.only(_HOSPITAL)
    code = r.code("code", _SITE, lower=True, shape=_SITE_SHAPE)
    name_fa, name_en = r.text("name_fa", persian=True, limit=160), optional_text(r, "name_en", 160)
    county, his = optional_text(r, "county", 120), optional_text(r, "his_facility", 60)
    orthanc = optional_text(r, "orthanc_url", 300).rstrip("/")
    if orthanc and not _URL.fullmatch(orthanc):
        r.problem(
            r.fields["orthanc_url"].line,
            "orthanc_url must be a web address, like http://10.0.0.5:8042",
        )
    if orthanc and not his:
        r.problem(
            r.fields["orthanc_url"].line,
            "a hospital with its own orthanc_url needs its "
            "his_facility (its studies are matched to its site by it)",
        )
    nodes = r.items("departments")
    departments = [_department(n, problems) for n in nodes]
    if r.shaped and not departments:
        r.problem(node.line, "a hospital must list at least one department")
    named = [(d.code, n.line) for d, n in zip(departments, nodes, strict=True) if d is not None]
    _once(problems, named, "department")
    if not r.ok or None in departments:
        return None
    return HospitalSpec(
        code, name_fa, name_en, tuple(d for d in departments if d is not None), county, his,
        orthanc,
    )  # fmt: skip


def _department(node: Node, problems: list[Problem]) -> DepartmentSpec | None:
    r = Record(node, "a department", problems)
    r.only(_DEPARTMENT)
    code = r.code("code", _SITE, lower=True, shape=_SITE_SHAPE)
    name_fa, name_en = r.text("name_fa", persian=True, limit=160), optional_text(r, "name_en", 160)
    devices = [parse_device(n, problems) for n in r.items("devices")]
    if r.shaped and not devices:
        r.problem(node.line, "a department must list at least one device")
    first: dict[str, int] = {}
    for device in (d for d in devices if d is not None):
        if device.code in first:
            r.problem(device.line, f"device {device.code} is already on line {first[device.code]}")
        first.setdefault(device.code, device.line)
    closed = [_closed(n, set(first), problems) for n in r.items("closed")]
    details = tuple(
        (name, optional_text(r, name, 40 if name == "phone" else 300))
        for name in SITE_DETAILS
        if name in r.fields
    )
    if not r.ok or None in devices or None in closed:
        return None
    return DepartmentSpec(
        code, name_fa, name_en,
        tuple(d for d in devices if d is not None), tuple(c for c in closed if c is not None),
        details,
    )  # fmt: skip


def _closed(node: Node, devices: set[str], problems: list[Problem]) -> ClosedSpec | None:
    r = Record(node, "a closed range", problems)
    r.only(_CLOSED)
    starts = _moment(r, "from", end_of_day=False)
    ends = _moment(r, "to", end_of_day=True) if "to" in r.fields else None
    if starts is not None and ends is None and "to" not in r.fields:
        ends = _moment(r, "from", end_of_day=True)
    device = r.text("device").upper() if "device" in r.fields else None
    if device is not None and device not in devices:
        r.problem(r.fields["device"].line, f"there is no device {device} in this department")
    reason_fa, reason_en = (
        r.text("reason_fa", limit=500),
        optional_text(r, "reason_en", 500),
    )
    if starts is not None and ends is not None and ends <= starts:
        r.problem(r.fields["to"].line, "a closed range must end after it starts")
    if not r.ok or starts is None or ends is None:
        return None
    return ClosedSpec(device, starts, ends, reason_fa, reason_en, node.line)


def _moment(r: Record, name: str, *, end_of_day: bool) -> datetime | None:
    raw = r.text(name)
    match = _MOMENT.fullmatch(normalize_digits(raw).strip())
    if not raw:
        return None
    try:
        if match is None:
            raise ValueError
        day: date = parse_jalali_date(match[1])
        if match[2] is None:
            moment = tehran_datetime(day, time.min)
            return moment + timedelta(days=1) if end_of_day else moment
        return tehran_datetime(day, time(int(match[2]), int(match[3])))
    except (ValueError, ClinicError):
        r.problem(
            r.fields[name].line,
            f"{name} must be a Jalali date like 1405/10/11 (and a time, 08:00)",
        )
        return None


__all__ = [
    "ALL_EXAMS", "CODE", "SITE_DETAILS", "WEEKDAYS", "ClosedSpec", "DepartmentFileError",
    "DepartmentSpec", "DeviceSpec", "HospitalSpec", "KeptSpec", "ShiftSpec",
    "parse_department_file",
]  # fmt: skip
