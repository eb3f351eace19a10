"""Read a catalogue file (YAML or CSV) into a tree of values that remember their line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import yaml

Problem = tuple[int, str]
NodeValue = str | None | list["Node"] | dict[str, "Node"]

_NULL_TAG = "tag:yaml.org,2002:null"

CSV_REQUIRED = ("code", "name_fa", "name_en", "modality", "body_part", "duration_minutes")
CSV_OPTIONAL = (
    "contrast", "needs_review", "walk_in", "reminder_hours", "screening", "preparation",
)  # fmt: skip
_CSV_LISTS = ("reminder_hours", "screening")
_PREP_PARTS = ("kind", "hours_before", "text_fa", "text_en")


@dataclass(frozen=True)
class Node:
    """A scalar (``str``, or ``None`` for null), a list or a mapping, and its 1-based line."""

    value: NodeValue
    line: int


def read_yaml(text: str) -> tuple[Node | None, list[Problem]]:
    """The document as a Node tree, or the syntax error with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [(line, f"this is not valid YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, [(1, f"this is not valid YAML: {exc}")]
    if root is None:
        return None, [(1, "the file is empty")]
    problems: list[Problem] = []
    return _from_yaml(root, problems), problems


def _from_yaml(node: yaml.Node, problems: list[Problem]) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return Node(None if node.tag == _NULL_TAG else str(node.value), line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_from_yaml(item, problems) for item in node.value], line)
    mapping: dict[str, Node] = {}
    for key, value in node.value:
        key_line = key.start_mark.line + 1
        name = str(key.value).strip() if isinstance(key, yaml.ScalarNode) else ""
        if name in mapping:
            problems.append((key_line, f"{name} is given twice"))
        # A field's problems are reported on the line where its name is written.
        mapping[name] = Node(_from_yaml(value, problems).value, key_line)
    return Node(mapping, line)


def read_csv(text: str) -> tuple[Node | None, list[Problem]]:
    """One exam per row, as ``{"exams": [...]}``; cells split into lists and steps."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return None, [(1, "the file is empty")]
    problems = _check_header(header)
    if problems:
        return None, problems
    exams: list[Node] = []
    last_line = reader.line_num
    for row in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            found = f"this row has {len(row)} columns; the header has {len(header)}"
            problems.append((line, found))
            continue
        exams.append(_csv_row(dict(zip(header, row, strict=True)), line, problems))
    return Node({"exams": Node(exams, 1)}, 1), problems


def _check_header(header: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    known = CSV_REQUIRED + CSV_OPTIONAL
    for name in header:
        if name not in known:
            problems.append((1, f"unknown column {name!r}; the columns are {', '.join(known)}"))
        elif header.count(name) > 1:
            problems.append((1, f"column {name} is given twice"))
    missing = [name for name in CSV_REQUIRED if name not in header]
    problems.extend((1, f"column {name} is missing") for name in missing)
    return sorted(set(problems))


def _csv_row(cells: dict[str, str], line: int, problems: list[Problem]) -> Node:
    fields: dict[str, Node] = {}
    for name, raw in cells.items():
        cell = raw.strip()
        if name in CSV_REQUIRED:
            fields[name] = Node(cell, line)
        elif not cell:
            continue  # an empty optional cell means "not given"
        elif name in _CSV_LISTS:
            fields[name] = Node([Node(p.strip(), line) for p in cell.split(";")], line)
        elif name == "preparation":
            fields[name] = Node(_csv_steps(cell, line, problems), line)
        else:
            fields[name] = Node(cell, line)
    return Node(fields, line)


def _csv_steps(cell: str, line: int, problems: list[Problem]) -> list[Node]:
    steps: list[Node] = []
    for raw in cell.split("|"):
        parts = [part.strip() for part in raw.split(";")]
        if len(parts) != len(_PREP_PARTS):
            shape = "kind;hours_before;text_fa;text_en"
            problems.append((line, f"a preparation step needs {shape}: {raw.strip()!r}"))
            continue
        step = {k: Node(v, line) for k, v in zip(_PREP_PARTS, parts, strict=True)}
        if not step["hours_before"].value:
            del step["hours_before"]  # an untimed step
        steps.append(Node(dict(step), line))
    return steps
