"""The department's setup as frozen views: exams with their preparation and screening, devices
with their hours, which device performs which exam, and its calendar (staff's day overrides and
the closures not cancelled).

Every tap of a booking reads some of it, and it changes only when the catalogue or the
department is imported or staff close or open a day or a device. Each process keeps one copy
per database and checks a one-row counter (``setup_version``) once per unit of work: any flush
that adds, changes or deletes a setup row, and any ORM bulk update or delete of one, moves the
counter in the same transaction, so every process (``radyar run``, ``radyar worker``, the CLI)
sees the change at its next unit of work. A copy read inside a transaction that changed the
setup is used by that transaction only; its own unflushed changes are flushed first.
"""

from __future__ import annotations

from functools import cache
from time import time_ns
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Select, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from clinic.models import (
    Closure,
    DayOverride,
    Device,
    DeviceExam,
    Exam,
    ExamScreening,
    KeptPlaces,
    PrepStep,
    ScreeningQuestion,
    SetupVersion,
    WorkingHours,
)
from clinic.setup_views import (
    ClosureSpan as ClosureSpan,
)
from clinic.setup_views import (
    DepartmentSetup as DepartmentSetup,
)
from clinic.setup_views import (
    DeviceView as DeviceView,
)
from clinic.setup_views import (
    ExamView as ExamView,
)
from clinic.setup_views import (
    KeptView as KeptView,
)
from clinic.setup_views import (
    PrepView as PrepView,
)
from clinic.setup_views import (
    QuestionView as QuestionView,
)
from clinic.setup_views import (
    ShiftView as ShiftView,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from clinic.uow import UnitOfWork

SETUP_TABLES = (
    Exam, PrepStep, ScreeningQuestion, ExamScreening, Device, WorkingHours, DeviceExam, Closure,
    DayOverride, KeptPlaces,
)  # fmt: skip
_COPIES: WeakKeyDictionary[Engine, DepartmentSetup] = WeakKeyDictionary()
_MEMO = "department_setup"  # Session.info key: this transaction's copy
_CHANGED = "department_setup_changed"  # Session.info key: this transaction moved the counter


async def department_setup(uow: UnitOfWork) -> DepartmentSetup:
    """The setup as this unit of work's transaction sees it (one counter read per transaction
    while nothing changed; the whole setup read again after a change)."""
    info = uow.session.info
    if _pending(uow.session.sync_session):
        await uow.session.flush()  # this transaction's own change first (it moves the counter)
    memo: DepartmentSetup | None = info.get(_MEMO)
    if memo is not None:
        return memo
    version = await uow.session.scalar(_version_query())
    engine = uow.session.bind.sync_engine
    copy = _COPIES.get(engine)
    if copy is None or version is None or copy.version != version or info.get(_CHANGED):
        copy = await _load(uow, version)
        if version is not None and not info.get(_CHANGED):
            _COPIES[engine] = copy
    info[_MEMO] = copy
    return copy


@cache
def _version_query() -> Select[tuple[int]]:
    return select(SetupVersion.version).where(SetupVersion.id == 1)


async def _load(uow: UnitOfWork, version: int | None) -> DepartmentSetup:
    run = uow.session.execute
    steps: dict[int, list[PrepView]] = {}
    for exam_id, step_id, position, kind, text_fa, text_en, hours in await run(_steps_query()):
        before = None if hours is None else float(hours)
        steps.setdefault(exam_id, []).append(
            PrepView(step_id, position, kind, text_fa, text_en, before)
        )
    rows = await run(select(*_question_columns()).order_by(ScreeningQuestion.id))
    questions = {row[0]: QuestionView(*row) for row in rows}
    asked: dict[int, list[QuestionView]] = {}
    for exam_id, question_id in await run(
        select(ExamScreening.exam_id, ExamScreening.question_id).order_by(
            ExamScreening.exam_id, ExamScreening.position
        )
    ):
        asked.setdefault(exam_id, []).append(questions[question_id])
    exams = {}
    for row in await run(select(*_exam_columns()).order_by(Exam.id)):
        values: dict[str, Any] = dict(row._mapping)
        hours = values["reminder_hours"]
        values["reminder_hours"] = tuple(hours) if hours else None
        exam_id = values["id"]
        exams[exam_id] = ExamView(
            **values,
            preparation=tuple(steps.get(exam_id, ())),
            questions=tuple(asked.get(exam_id, ())),
        )
    shifts: dict[int, list[ShiftView]] = {}
    for device_id, weekday, starts, ends in await run(
        select(WorkingHours.device_id, WorkingHours.weekday, WorkingHours.starts)
        .add_columns(WorkingHours.ends)
        .order_by(WorkingHours.device_id, WorkingHours.weekday, WorkingHours.starts)
    ):
        shifts.setdefault(device_id, []).append(ShiftView(weekday, starts, ends))
    kept: dict[int, list[KeptView]] = {}
    for device_id, keep, per, places in await run(
        select(KeptPlaces.device_id, KeptPlaces.keep, KeptPlaces.per, KeptPlaces.places).order_by(
            KeptPlaces.device_id, KeptPlaces.keep
        )
    ):
        kept.setdefault(device_id, []).append(KeptView(keep, per, places))
    devices = {
        row.id: DeviceView(
            **dict(row._mapping),
            hours=tuple(shifts.get(row.id, ())),
            kept=tuple(kept.get(row.id, ())),
        )
        for row in await run(select(*_device_columns()).order_by(Device.code))
    }
    performed: dict[int, list[int]] = {}
    for exam_id, device_id in await run(
        select(DeviceExam.exam_id, DeviceExam.device_id)
        .join(Device, Device.id == DeviceExam.device_id)
        .order_by(DeviceExam.exam_id, Device.code)
    ):
        performed.setdefault(exam_id, []).append(device_id)
    overrides = dict((await run(select(DayOverride.day, DayOverride.is_open))).tuples().all())
    spans = select(Closure.device_id, Closure.department_id, Closure.starts_at, Closure.ends_at)
    spans = spans.where(Closure.cancelled_at.is_(None)).order_by(Closure.starts_at, Closure.id)
    return DepartmentSetup(
        version,
        exams,
        devices,
        questions,
        {exam_id: tuple(ids) for exam_id, ids in performed.items()},
        overrides,
        _spans((await run(spans)).tuples().all(), devices),
    )


def _spans(
    rows: Sequence[tuple[int | None, int | None, datetime, datetime]],
    devices: dict[int, DeviceView],
) -> tuple[ClosureSpan, ...]:
    """A closure per device; a site's closure stands for one of each of its devices (one of
    every site stays one span for all)."""
    found: list[ClosureSpan] = []
    for device, site, starts, ends in rows:
        if device is None and site is not None:
            found += [(d.id, starts, ends) for d in devices.values() if d.site == site]
        else:
            found.append((device, starts, ends))
    return tuple(found)


@cache
def _steps_query() -> Select[Any]:
    return select(
        PrepStep.exam_id,
        PrepStep.id,
        PrepStep.position,
        PrepStep.kind,
        PrepStep.text_fa,
        PrepStep.text_en,
        PrepStep.hours_before,
    ).order_by(PrepStep.exam_id, PrepStep.position)


def _question_columns() -> list[Any]:
    q = ScreeningQuestion
    return [
        q.id, q.code, q.text_fa, q.text_en, q.blocking_answer, q.female_only, q.min_age,
        q.max_age,
    ]  # fmt: skip


def _exam_columns() -> list[Any]:
    e = Exam
    return [
        e.id, e.code, e.name_fa, e.name_en, e.modality, e.body_part, e.duration_minutes,
        e.contrast, e.needs_review, e.walk_in, e.reminder_hours, e.active,
    ]  # fmt: skip


def _device_columns() -> list[Any]:
    d = Device
    return [
        d.id, d.code, d.name_fa, d.name_en, d.modality, d.room, d.room_en, d.slot_minutes,
        d.places_per_slot, d.active, d.floor, d.department_id.label("site"),
    ]  # fmt: skip


# The counter moves with every change to a setup row, in the transaction that makes it.

_BUMP = update(SetupVersion).where(SetupVersion.id == 1).values(version=SetupVersion.version + 1)


def _pending(session: Session) -> bool:
    """Whether the session holds setup rows added, changed or deleted but not flushed."""
    return any(
        isinstance(o, SETUP_TABLES) for o in (*session.new, *session.dirty, *session.deleted)
    )


def _changed(session: Session) -> None:
    session.info[_CHANGED] = True
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "after_flush")
def _count_flushed(session: Session, _flush: object) -> None:
    dirty = (o for o in session.dirty if isinstance(o, SETUP_TABLES) and session.is_modified(o))
    new = (o for o in (*session.new, *session.deleted) if isinstance(o, SETUP_TABLES))
    if next(new, None) is not None or next(dirty, None) is not None:
        session.connection().execute(_BUMP)
        _changed(session)


@event.listens_for(Session, "do_orm_execute")
def _count_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if any(mapper.class_ in SETUP_TABLES for mapper in state.all_mappers):
        state.session.connection().execute(_BUMP)
        _changed(state.session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    # The next transaction reads the counter again; a rolled-back change never reached it.
    session.info.pop(_MEMO, None)
    session.info.pop(_CHANGED, None)


def first_version() -> int:
    """Where the count starts: the time in milliseconds, so a table made again (a downgrade and
    an upgrade, a test's fresh tables) never repeats a count a running process may still hold."""
    return time_ns() // 1_000_000


@event.listens_for(SetupVersion.__table__, "after_create")
def _first_row(target: Any, connection: Any, **_: Any) -> None:
    # Tables made from the models (the tests) start with the row the migration inserts.
    connection.execute(target.insert().values(id=1, version=first_version()))
