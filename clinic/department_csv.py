"""The department's devices as CSV, one row per device, for a spreadsheet: read into the same
tree of values the YAML file gives (so the same checks, with the row's line), and written back.

The hospital's and the department's names are not in the CSV: an import keeps those on record.
Cells that hold lists: ``exams`` (``all``, or codes joined by ``;``), ``shifts`` (``sat-wed
07:30-13:30 15:00-21:00 | thu 07:30-12:30``: days, then hours, shifts joined by ``|``) and
``kept_back`` (``walk_in 1 slot | urgent 2 day``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from clinic.catalogue_files import Node, Problem

REQUIRED = (
    "code", "modality", "name_fa", "name_en", "slot_minutes", "places_per_slot", "exams",
    "shifts",
)  # fmt: skip
OPTIONAL = ("room_fa", "room_en", "floor", "kept_back", "active")
COLUMNS = (*REQUIRED[:4], "room_fa", "room_en", "floor", *REQUIRED[4:], "kept_back", "active")


def read_department_csv(text: str, names: dict[str, str]) -> tuple[Node | None, list[Problem]]:
    """The rows as a department file's tree, under the hospital and department ``names``
    (``hospital_code``, ``hospital_name_fa``, ``hospital_name_en``, ``code``, ``name_fa``,
    ``name_en``)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return None, [(1, "the file is empty")]
    problems = [(1, f"unknown column {n!r}; the columns are {', '.join(COLUMNS)}")
                for n in header if n not in COLUMNS]  # fmt: skip
    problems += [(1, f"column {n} is missing") for n in REQUIRED if n not in header]
    if problems:
        return None, problems
    devices: list[Node] = []
    last = reader.line_num
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                (line, f"this row has {len(row)} columns; the header has {len(header)}")
            )
            continue
        devices.append(_device(dict(zip(header, row, strict=True)), line, problems))
    department = {
        "code": Node(names["code"], 1), "name_fa": Node(names["name_fa"], 1),
        "devices": Node(devices, 1),
    }  # fmt: skip
    if names.get("name_en"):
        department["name_en"] = Node(names["name_en"], 1)
    hospital = {
        "code": Node(names["hospital_code"], 1), "name_fa": Node(names["hospital_name_fa"], 1),
        "departments": Node([Node(department, 1)], 1),
    }  # fmt: skip
    if names.get("hospital_name_en"):
        hospital["name_en"] = Node(names["hospital_name_en"], 1)
    return Node({"hospitals": Node([Node(hospital, 1)], 1)}, 1), problems


def _device(cells: dict[str, str], line: int, problems: list[Problem]) -> Node:
    fields: dict[str, Node] = {}
    for name, raw in cells.items():
        cell = raw.strip()
        if name in OPTIONAL and not cell:
            continue  # an empty optional cell means "not given"
        if name == "exams" and cell.lower() != "all":
            fields[name] = Node(
                [Node(c.strip(), line) for c in cell.split(";") if c.strip()], line
            )
        elif name == "shifts":
            fields[name] = Node(
                [_shift(part, line) for part in cell.split("|") if part.strip()], line
            )
        elif name == "kept_back":
            fields[name] = Node(_kept(cell, line, problems), line)
        else:
            fields[name] = Node(cell, line)
    return Node(fields, line)


def _shift(part: str, line: int) -> Node:
    days, *hours = part.split()
    return Node(
        {
            "days": Node([Node(d, line) for d in days.split(",")], line),
            "hours": Node([Node(h, line) for h in hours], line),
        },
        line,
    )


def _kept(cell: str, line: int, problems: list[Problem]) -> list[Node]:
    kept = []
    for part in (p.strip() for p in cell.split("|") if p.strip()):
        words = part.split()
        if len(words) != 3:
            problems.append((line, f"kept_back must be written like walk_in 1 slot: {part!r}"))
            continue
        keep, places, per = words
        fields = {"for": keep, "places": places, "per": per}
        kept.append(Node({k: Node(v, line) for k, v in fields.items()}, line))
    return kept


def write_department_csv(devices: list[dict[str, Any]]) -> str:
    """The exported devices (``clinic.department_export``'s) as CSV rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for device in devices:
        exams = device["exams"]
        shifts = " | ".join(
            f"{','.join(s['days'])} {' '.join(s['hours'])}" for s in device["shifts"]
        )
        kept = " | ".join(
            f"{k['for']} {k['places']} {k['per']}" for k in device.get("kept_back", ())
        )
        cells = {
            **device, "exams": exams if isinstance(exams, str) else ";".join(exams),
            "shifts": shifts, "kept_back": kept,
            "active": "" if device.get("active", True) else "false",
        }  # fmt: skip
        writer.writerow(["" if cells.get(c) is None else str(cells.get(c, "")) for c in COLUMNS])
    return buffer.getvalue()
