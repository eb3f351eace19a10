"""A device of a department file: its code, modality, names, room, slots, places, exams,
weekly shifts and places kept back, checked with a line for every problem
(``clinic.department_file`` reads the rest of the file)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from itertools import pairwise
from typing import TYPE_CHECKING, TypeVar

from clinic.file_records import Record
from clinic.models import Keep, KeepPer, Modality
from clinic.text import normalize_digits, normalize_letters

if TYPE_CHECKING:
    from clinic.catalogue_files import Node, Problem

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_CODE_SHAPE = "Latin letters, digits, '-' or '_' (at most 32), like CT-1"
_HOURS = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*[-–]\s*([0-9]{1,2}):([0-9]{2})")
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
_DEVICE = (
    "code", "modality", "name_fa", "name_en", "room_fa", "room_en", "floor", "slot_minutes",
    "places_per_slot", "exams", "shifts", "kept_back", "active",
)  # fmt: skip
_SHIFT = ("days", "hours")
_KEPT = ("for", "places", "per")


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


def parse_device(node: Node, problems: list[Problem]) -> DeviceSpec | None:
    """The device at ``node``, or None with its problems added to ``problems``."""
    r = Record(node, "a device", problems)
    r.only(_DEVICE)
    code = r.code("code", CODE, lower=False, shape=_CODE_SHAPE)
    modality = r.modality("modality")
    name_fa, name_en = r.text("name_fa", persian=True, limit=120), r.text("name_en", limit=120)
    room_fa, room_en = (
        (r.text("room_fa", persian=True, limit=60) if "room_fa" in r.fields else ""),
        optional_text(r, "room_en", 60),
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


def optional_text(r: Record, name: str, limit: int) -> str:
    """The field ``name`` (at most ``limit`` letters), empty when the file leaves it out."""
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
