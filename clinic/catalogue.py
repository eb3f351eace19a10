"""The exam catalogue: import it from a YAML or CSV file, and look exams up for booking."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.catalogue_validation import (
    Catalogue,
    ExamSpec,
    QuestionSpec,
    StepSpec,
    parse_catalogue,
)
from clinic.department_setup import ExamView, department_setup
from clinic.errors import InvalidInput, NotFound
from clinic.file_records import parse_modality
from clinic.i18n import N_
from clinic.models import Exam, ExamScreening, Modality, PrepStep, ScreeningQuestion

if TYPE_CHECKING:
    from clinic.catalogue_files import Problem
    from clinic.uow import UnitOfWork

_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
_QUESTION_FIELDS = ("text_fa", "text_en", "blocking_answer", "female_only", "min_age", "max_age")
_EXAM_FIELDS = (
    "name_fa", "name_en", "modality", "body_part", "duration_minutes", "contrast",
    "needs_review", "walk_in", "reminder_hours",
)  # fmt: skip


class CatalogueError(InvalidInput):
    """The file has problems; ``problems`` lists (1-based line, English message), by line."""

    code = "catalogue_invalid"
    message = N_("The catalogue file has {count} problem(s); nothing was imported.")

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__(count=len(self.problems))


@dataclass(frozen=True)
class ImportResult:
    """Exams created, changed and left as they were; screening questions created or changed."""

    created: int
    updated: int
    unchanged: int
    questions: int


async def import_catalogue(
    uow: UnitOfWork, source: str | Path, *, fmt: str | None = None
) -> ImportResult:
    """Upsert the file's screening questions and exams by code, all or nothing.

    An exam's preparation and screening are replaced by the file's. Exams missing from the file
    are left alone. Raises CatalogueError (every problem, with its line) and changes nothing;
    OSError if the file cannot be read.
    """
    path = Path(source)
    kind = (fmt or _FORMATS.get(path.suffix.lower(), "")).lower()
    if kind not in ("yaml", "csv"):
        raise CatalogueError([(1, "the file must be .yaml, .yml or .csv")])
    catalogue, problems = parse_catalogue(_decode(await asyncio.to_thread(path.read_bytes)), kind)
    questions = await _questions_by_code(uow, catalogue)
    problems += _undefined_screening(catalogue, questions)
    if problems:
        raise CatalogueError(problems)
    written = sum([_upsert_question(uow, spec, questions) for spec in catalogue.questions])
    outcomes = [await _upsert_exam(uow, spec, questions) for spec in catalogue.exams]
    await uow.session.flush()
    return ImportResult(
        created=outcomes.count("created"),
        updated=outcomes.count("updated"),
        unchanged=outcomes.count("unchanged"),
        questions=written,
    )


async def exams_for_modality(uow: UnitOfWork, modality: Modality | str) -> list[ExamView]:
    """Active exams of one modality in catalogue order.

    Raises InvalidInput for an unknown modality.
    """
    found = parse_modality(modality)
    if found is None:
        raise InvalidInput(N_("Unknown modality: {modality}."), modality=modality)
    return (await department_setup(uow)).exams_of(found)


async def get_exam(uow: UnitOfWork, code: str) -> ExamView:
    """The exam (active or not) with its preparation and screening questions.

    Raises NotFound.
    """
    exam = (await department_setup(uow)).exam_by_code(code)
    if exam is None:
        raise NotFound(N_("There is no exam with code {code}."), code=code)
    return exam


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogueError([(line, "the file must be saved as UTF-8 text")]) from None


async def _questions_by_code(
    uow: UnitOfWork, catalogue: Catalogue
) -> dict[str, ScreeningQuestion]:
    codes = {q.code for q in catalogue.questions}
    codes |= {code for exam in catalogue.exams for code, _ in exam.screening}
    stmt = select(ScreeningQuestion).where(ScreeningQuestion.code.in_(codes))
    return {q.code: q for q in await uow.session.scalars(stmt)}


def _undefined_screening(
    catalogue: Catalogue, existing: dict[str, ScreeningQuestion]
) -> list[Problem]:
    known = existing.keys() | {q.code for q in catalogue.questions}
    return [
        (line, f"screening question {code} is not defined in this file or in the database")
        for exam in catalogue.exams
        for code, line in exam.screening
        if code not in known
    ]


def _upsert_question(
    uow: UnitOfWork, spec: QuestionSpec, questions: dict[str, ScreeningQuestion]
) -> bool:
    """Create or update one question; True if anything was written."""
    values = {name: getattr(spec, name) for name in _QUESTION_FIELDS}
    question = questions.get(spec.code)
    if question is None:
        questions[spec.code] = question = ScreeningQuestion(code=spec.code, **values)
        uow.session.add(question)
        return True
    return _assign(question, values)


async def _upsert_exam(
    uow: UnitOfWork, spec: ExamSpec, questions: dict[str, ScreeningQuestion]
) -> str:
    """Create or update one exam: ``created``, ``updated`` or ``unchanged``."""
    exam = await uow.session.scalar(
        select(Exam)
        .where(Exam.code == spec.code)
        .options(
            selectinload(Exam.preparation),
            selectinload(Exam.screening).selectinload(ExamScreening.question),
        )
    )
    if exam is None:
        exam = Exam(code=spec.code, **_exam_values(spec), preparation=[], screening=[])
        uow.session.add(exam)
        _set_preparation(exam, spec.preparation)
        _set_screening(exam, spec, questions)
        return "created"
    changed = _assign(exam, _exam_values(spec))
    # Pending preparation reminders name their steps by id, so steps are replaced only if
    # the instructions really changed.
    if [_step_key(s) for s in exam.preparation] != [_spec_key(s) for s in spec.preparation]:
        exam.preparation.clear()
        _set_preparation(exam, spec.preparation)
        changed = True
    if [s.question.code for s in exam.screening] != [code for code, _ in spec.screening]:
        exam.screening.clear()
        await uow.session.flush()  # the old links go before new ones reuse their keys
        _set_screening(exam, spec, questions)
        changed = True
    return "updated" if changed else "unchanged"


def _exam_values(spec: ExamSpec) -> dict[str, Any]:
    values = {name: getattr(spec, name) for name in _EXAM_FIELDS}
    values["modality"] = spec.modality
    values["reminder_hours"] = list(spec.reminder_hours) if spec.reminder_hours else None
    return values


def _assign(row: object, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _step_key(step: PrepStep) -> tuple[object, ...]:
    hours = None if step.hours_before is None else float(step.hours_before)
    return (step.kind, hours, step.text_fa, step.text_en)


def _spec_key(step: StepSpec) -> tuple[object, ...]:
    return (step.kind, step.hours_before, step.text_fa, step.text_en)


def _set_preparation(exam: Exam, steps: tuple[StepSpec, ...]) -> None:
    exam.preparation.extend(
        PrepStep(
            position=i,
            kind=s.kind,
            hours_before=s.hours_before,
            text_fa=s.text_fa,
            text_en=s.text_en,
        )
        for i, s in enumerate(steps, start=1)
    )


def _set_screening(exam: Exam, spec: ExamSpec, questions: dict[str, ScreeningQuestion]) -> None:
    exam.screening.extend(
        ExamScreening(question=questions[code], position=i)
        for i, (code, _) in enumerate(spec.screening, start=1)
    )
