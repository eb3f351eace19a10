"""Check a catalogue file's exams and screening questions, with a line for every problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from clinic.catalogue_files import Node, Problem, read_csv, read_yaml
from clinic.file_records import Record

if TYPE_CHECKING:
    from clinic.models import Modality

PREP_KINDS = ("fasting", "water", "lab", "metal", "bring", "medication", "clothing", "other")
_TOP_FIELDS = ("screening_questions", "exams")

_EXAM_CODE_SHAPE = "Latin letters, digits, '-' or '_' (at most 32), like CT-BRAIN"
_QUESTION_CODE_SHAPE = "small Latin letters, digits or '_' (at most 40), like pregnancy"
_EXAM_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_QUESTION_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FLAGS = ("contrast", "needs_review", "walk_in")
_MINUTES = "number of minutes"
_HOURS = "number of hours"


@dataclass(frozen=True)
class QuestionSpec:
    """A screening question as the catalogue file gives it, with the line it starts on."""

    code: str
    text_fa: str
    text_en: str
    blocking_answer: bool | None
    female_only: bool
    min_age: int | None
    max_age: int | None
    line: int


@dataclass(frozen=True)
class StepSpec:
    """A preparation step of an exam, as the catalogue file gives it."""

    kind: str
    hours_before: float | None
    text_fa: str
    text_en: str


@dataclass(frozen=True)
class ExamSpec:
    """An exam as the catalogue file gives it, with its screening and preparation."""

    code: str
    name_fa: str
    name_en: str
    modality: Modality
    body_part: str
    duration_minutes: int
    contrast: bool
    needs_review: bool
    walk_in: bool
    reminder_hours: tuple[int, ...] | None
    screening: tuple[tuple[str, int], ...]  # question code and the line naming it
    preparation: tuple[StepSpec, ...]
    line: int


@dataclass(frozen=True)
class Catalogue:
    """A checked catalogue file: its screening questions and exams."""

    questions: tuple[QuestionSpec, ...]
    exams: tuple[ExamSpec, ...]


def _field_names(spec: type[object]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(spec) if f.name != "line")  # type: ignore[arg-type]


QUESTION_FIELDS = _field_names(QuestionSpec)
EXAM_FIELDS = _field_names(ExamSpec)
STEP_FIELDS = _field_names(StepSpec)


def parse_catalogue(text: str, fmt: str) -> tuple[Catalogue, list[Problem]]:
    """Every exam and question the file defines, and every problem found (none: all good)."""
    root, problems = read_csv(text) if fmt == "csv" else read_yaml(text)
    if root is None:
        return Catalogue((), ()), problems
    top = Record(root, "the file", problems)
    top.only(_TOP_FIELDS)
    questions = [_question(node, problems) for node in top.items("screening_questions")]
    exams = [_exam(node, problems) for node in top.items("exams")]
    if "exams" not in top.fields and "screening_questions" not in top.fields:
        problems.append((1, "the file defines neither exams nor screening_questions"))
    catalogue = Catalogue(
        tuple(q for q in questions if q is not None), tuple(e for e in exams if e is not None)
    )
    problems.extend(_duplicates([(q.code, q.line) for q in catalogue.questions], "question"))
    problems.extend(_duplicates([(e.code, e.line) for e in catalogue.exams], "exam"))
    return catalogue, problems


def _duplicates(codes: list[tuple[str, int]], what: str) -> list[Problem]:
    first: dict[str, int] = {}
    found = []
    for code, line in codes:
        if code in first:
            found.append((line, f"{what} code {code} is already used on line {first[code]}"))
        first.setdefault(code, line)
    return found


def _question(node: Node, problems: list[Problem]) -> QuestionSpec | None:
    r = Record(node, "a screening question", problems)
    r.only(QUESTION_FIELDS)
    code = r.code("code", _QUESTION_CODE, lower=True, shape=_QUESTION_CODE_SHAPE)
    text_fa, text_en = r.text("text_fa", persian=True), r.text("text_en")
    if r.shaped and "blocking_answer" not in r.fields:  # a safety rule is never left to a default
        r.problem(node.line, "blocking_answer is required: true, false or null (informative)")
    blocking = r.boolean("blocking_answer", nullable=True)
    female_only = bool(r.boolean("female_only"))
    min_age, max_age = r.integer("min_age", 0, 120), r.integer("max_age", 0, 120)
    if min_age is not None and max_age is not None and min_age > max_age:
        r.problem(r.fields["min_age"].line, "min_age must not be greater than max_age")
    if not r.ok:
        return None
    return QuestionSpec(code, text_fa, text_en, blocking, female_only, min_age, max_age, node.line)


def _exam(node: Node, problems: list[Problem]) -> ExamSpec | None:
    r = Record(node, "an exam", problems)
    r.only(EXAM_FIELDS)
    code = r.code("code", _EXAM_CODE, lower=False, shape=_EXAM_CODE_SHAPE)
    name_fa, name_en = r.text("name_fa", persian=True, limit=160), r.text("name_en", limit=160)
    modality, body_part = r.modality("modality"), r.text("body_part", limit=60)
    duration = r.integer("duration_minutes", 5, 240, required=True, what=_MINUTES)
    contrast, review, walk_in = (bool(r.boolean(f)) for f in _FLAGS)
    reminders, screening = _reminder_hours(r), _screening_codes(r)
    steps = [_step(s, problems) for s in r.items("preparation")]
    preparation = tuple(s for s in steps if s is not None)
    if not r.ok or modality is None or duration is None or len(preparation) < len(steps):
        return None
    return ExamSpec(
        code=code, name_fa=name_fa, name_en=name_en, modality=modality, body_part=body_part,
        duration_minutes=duration, contrast=contrast, needs_review=review, walk_in=walk_in,
        reminder_hours=reminders, screening=tuple(screening), preparation=preparation,
        line=node.line,
    )  # fmt: skip


def _reminder_hours(r: Record) -> tuple[int, ...] | None:
    if "reminder_hours" not in r.fields:
        return None
    items = r.items("reminder_hours")
    hours = [r.whole(item, "reminder_hours", 1, 336, what=_HOURS) for item in items]
    if not hours:
        r.problem(r.fields["reminder_hours"].line, "reminder_hours must list at least one hour")
    return tuple(sorted({h for h in hours if h is not None}, reverse=True))


def _screening_codes(r: Record) -> list[tuple[str, int]]:
    codes: list[tuple[str, int]] = []
    for node in r.items("screening"):
        shown = node.value if isinstance(node.value, str) else "(not a code)"
        code = shown.strip().lower()
        if not _QUESTION_CODE.fullmatch(code):
            r.problem(node.line, f"screening must list question codes, like pregnancy: {shown!r}")
        elif code in dict(codes):
            r.problem(node.line, f"screening question {code} is listed twice")
        else:
            codes.append((code, node.line))
    return codes


def _step(node: Node, problems: list[Problem]) -> StepSpec | None:
    r = Record(node, "a preparation step", problems)
    r.only(STEP_FIELDS)
    kind = r.text("kind").lower()
    if kind and kind not in PREP_KINDS:
        line = r.fields["kind"].line
        r.problem(line, f"unknown preparation kind {kind!r}; use {', '.join(PREP_KINDS)}")
    hours = r.hours("hours_before")
    text_fa, text_en = r.text("text_fa", persian=True), r.text("text_en")
    return StepSpec(kind, hours, text_fa, text_en) if r.ok else None
