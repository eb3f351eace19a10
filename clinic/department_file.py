"""Check a department file (YAML): its hospital, the department's devices with their rooms,
weekly shifts, slots, places kept back and exams, and its closed dates; a line for every problem.

The file names hospitals, each with its departments: every site of a university in one file,
or one file per site (an import changes the sites its file names and leaves the others be).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import TypeVar

from clinic.catalogue_files import Node, Problem, read_yaml
from clinic.department_csv import read_department_csv
from clinic.errors import ClinicError
from clinic.file_records import Record
from clinic.jalali import parse_jalali_date, tehran_datetime
from clinic.models import Keep, KeepPer, Modality
from clinic.text import normalize_digits, normalize_letters

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_CODE_SHAPE = "Latin letters, digits, '-' or '_' (at most 32), like CT-1"
_SITE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_SITE_SHAPE = "small Latin letters, digits, '-' or '_' (at most 40), like radiology"
_HOURS = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*[-–]\s*([0-9]{1,2}):([0-9]{2})")
_MOMENT = re.compile(r"(\S+)(?:\s+([0-9]{1,2}):([0-9]{2}))?")
# The Iranian week: 0 is Saturday. English short and long names, and the Persian ones.
WEEKDAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
_LONG = ("saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday")
_PERSIAN = ("شنبه", "یکشنبه", "دوشنبه", "سهشنبه", "چهارشنبه", "پنجشنبه", "جمعه")
_DAY_NAMES = {
    **{n: i for i, n in enumerate(WEEKDAYS)},
    **{n: i for i, n in enumerate(_LONG)},
    **{n: i for i, n in enumerate(_PERSIAN)},
}
E = TypeVar("E", Keep, KeepPer)
ALL_EXAMS = "all"  # a device performs every exam of its modality
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
_DEVICE = (
    "code", "modality", "name_fa", "name_en", "room_fa", "room_en", "floor", "slot_minutes",
    "places_per_slot", "exams", "shifts", "kept_back", "active",
)  # fmt: skip
_SHIFT = ("days", "hours")
_KEPT = ("for", "places", "per")
_CLOSED = ("from", "to", "device", "reason_fa", "reason_en")


class DepartmentFileError(ClinicError):
    """The file has problems; ``problems`` lists (1-based line, English message), by line."""

    code = "department_file_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__()


@dataclass(frozen=True)
class ShiftSpec:
    """One shift of a device on one day of the Iranian week (0 is Saturday)."""

    weekday: int
    starts: time
    ends: time


@dataclass(frozen=True)
class KeptSpec:
    """Places of a device kept back for ``keep``, in every slot or in all of a day."""

    keep: Keep
    per: KeepPer
    places: int


@dataclass(frozen=True)
class DeviceSpec:
    """A device as the file gives it; ``exams`` None means every exam of its modality."""

    code: str
    modality: Modality
    name_fa: str
    name_en: str
    room_fa: str
    room_en: str
    floor: int | None
    slot_minutes: int
    places_per_slot: int
    exams: tuple[str, ...] | None
    shifts: tuple[ShiftSpec, ...]
    kept: tuple[KeptSpec, ...]
    active: bool
    line: int
    exam_lines: tuple[int, ...] = ()  # the line naming each of ``exams``


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
    name_fa, name_en = r.text("name_fa", persian=True, limit=160), _optional(r, "name_en", 160)
    county, his = _optional(r, "county", 120), _optional(r, "his_facility", 60)
    orthanc = _optional(r, "orthanc_url", 300).rstrip("/")
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
    name_fa, name_en = r.text("name_fa", persian=True, limit=160), _optional(r, "name_en", 160)
    devices = [_device(n, problems) for n in r.items("devices")]
    if r.shaped and not devices:
        r.problem(node.line, "a department must list at least one device")
    first: dict[str, int] = {}
    for device in (d for d in devices if d is not None):
        if device.code in first:
            r.problem(device.line, f"device {device.code} is already on line {first[device.code]}")
        first.setdefault(device.code, device.line)
    closed = [_closed(n, set(first), problems) for n in r.items("closed")]
    details = tuple(
        (name, _optional(r, name, 40 if name == "phone" else 300))
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


def _device(node: Node, problems: list[Problem]) -> DeviceSpec | None:
    r = Record(node, "a device", problems)
    r.only(_DEVICE)
    code = r.code("code", CODE, lower=False, shape=_CODE_SHAPE)
    modality = r.modality("modality")
    name_fa, name_en = r.text("name_fa", persian=True, limit=120), r.text("name_en", limit=120)
    room_fa, room_en = (
        (r.text("room_fa", persian=True, limit=60) if "room_fa" in r.fields else ""),
        _optional(r, "room_en", 60),
    )
    floor = r.integer("floor", -5, 99, what="floor number (0: ground floor)")
    slot = r.integer("slot_minutes", 5, 240, required=True, what="number of minutes")
    places = r.integer("places_per_slot", 1, 50, required=True, what="number of places")
    active = r.boolean("active", nullable=True)
    exams, exam_lines = _exams(r)
    shifts = _shifts(r, slot)
    kept = _kept(r, places or 0)
    if not r.ok or modality is None or slot is None or places is None:
        return None
    return DeviceSpec(
        code=code, modality=modality, name_fa=name_fa, name_en=name_en, room_fa=room_fa,
        room_en=room_en, floor=floor, slot_minutes=slot, places_per_slot=places, exams=exams,
        shifts=shifts, kept=kept, active=active is not False, line=node.line,
        exam_lines=exam_lines,
    )  # fmt: skip


def _optional(r: Record, name: str, limit: int) -> str:
    return r.text(name, limit=limit) if name in r.fields else ""


def _exams(r: Record) -> tuple[tuple[str, ...] | None, tuple[int, ...]]:
    node = r.fields.get("exams")
    if node is None:
        r.problem(r.line, f"exams is required in a device: a list of exam codes, or {ALL_EXAMS}")
        return (), ()
    if isinstance(node.value, str) and node.value.strip().lower() == ALL_EXAMS:
        return None, ()
    codes: list[str] = []
    lines: list[int] = []
    for item in r.items("exams"):
        code = (item.value if isinstance(item.value, str) else "").strip().upper()
        if not CODE.fullmatch(code):
            r.problem(item.line, f"exams must list exam codes, like CT-BRAIN, or be {ALL_EXAMS}")
        elif code in codes:
            r.problem(item.line, f"exam {code} is listed twice")
        else:
            codes.append(code)
            lines.append(item.line)
    return tuple(codes), tuple(lines)


def _shifts(r: Record, slot: int | None) -> tuple[ShiftSpec, ...]:
    found: list[tuple[ShiftSpec, int]] = []
    for node in r.items("shifts"):
        s = r.child(node, "a shift")
        s.only(_SHIFT)
        days = _days(s)
        hours = [_hours(s, item) for item in s.items("hours")]
        if s.shaped and "hours" in s.fields and not hours:
            s.problem(
                s.fields["hours"].line, "hours must list at least one range, like 07:30-13:30"
            )
        for span, line in (h for h in hours if h is not None):
            if slot is not None and _minutes(span[1]) - _minutes(span[0]) < slot:
                s.problem(line, f"the shift is shorter than one slot ({slot} minutes)")
            found += [(ShiftSpec(day, *span), line) for day in days]
        r.ok = r.ok and s.ok
    by_day = sorted(found, key=lambda f: (f[0].weekday, f[0].starts))
    for (a, _), (b, line) in pairwise(by_day):
        if a.weekday == b.weekday and b.starts < a.ends:
            day = WEEKDAYS[a.weekday]
            r.problem(line, f"on {day} the shift from {b.starts:%H:%M} overlaps the one before")
    return tuple(shift for shift, _ in by_day)


def _days(s: Record) -> list[int]:
    days: list[int] = []
    for item in s.items("days"):
        raw = item.value if isinstance(item.value, str) else ""
        word = normalize_letters(raw).strip().lower().replace("\u200c", "").replace(" ", "")
        span = word.split("-") if word.count("-") == 1 else [word]
        found = [_DAY_NAMES.get(part) for part in span]
        if None in found or not raw.strip():
            s.problem(
                item.line, f"unknown day {raw!r}; use {', '.join(WEEKDAYS)} or a range, sat-wed"
            )
            continue
        first, last = found[0], found[-1]
        assert first is not None and last is not None
        run = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        for day in run:
            if day in days:
                s.problem(item.line, f"{WEEKDAYS[day]} is given twice in this shift")
            else:
                days.append(day)
    if s.shaped and "days" in s.fields and not days and s.ok:
        s.problem(s.fields["days"].line, "days must list at least one day")
    elif s.shaped and "days" not in s.fields:
        s.problem(s.line, "days is required in a shift, like [sat, sun, mon, tue, wed]")
    return days


def _hours(s: Record, item: Node) -> tuple[tuple[time, time], int] | None:
    raw = item.value if isinstance(item.value, str) else ""
    match = _HOURS.fullmatch(normalize_digits(raw).strip())
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        starts, ends = time(h1, m1), time(h2, m2)
    except ValueError:
        s.problem(item.line, f"hours must be written like 07:30-13:30, not {raw!r}")
        return None
    if ends <= starts:
        s.problem(item.line, f"the shift {raw.strip()} must end after it starts (on the same day)")
        return None
    return (starts, ends), item.line


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _kept(r: Record, places: int) -> tuple[KeptSpec, ...]:
    kept: list[KeptSpec] = []
    per_slot = 0
    for node in r.items("kept_back"):
        k = r.child(node, "places kept back")
        k.only(_KEPT)
        keep = _choice(k, "for", Keep)
        per = _choice(k, "per", KeepPer)
        count = k.integer("places", 1, 999, required=True, what="number of places")
        if keep is not None and keep in {x.keep for x in kept}:
            k.problem(node.line, f"places are kept back for {keep.value} twice")
        if k.ok and keep is not None and per is not None and count is not None:
            kept.append(KeptSpec(keep, per, count))
            per_slot += count if per is KeepPer.SLOT else 0
            if per_slot > places > 0:
                k.problem(
                    node.line, f"more places kept back per slot than the {places} a slot has"
                )
        r.ok = r.ok and k.ok
    return tuple(kept)


def _choice(k: Record, name: str, kind: type[E]) -> E | None:
    raw = k.text(name)
    if not raw:
        return None
    try:
        return kind(raw.lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        k.problem(k.fields[name].line, f"{name} must be one of {choices}, not {raw!r}")
        return None


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
        _optional(r, "reason_en", 500),
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
