"""Importing the exam catalogue from YAML and CSV, as the department's admin does it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from clinic.catalogue import CatalogueError, exams_for_modality, get_exam, import_catalogue
from clinic.demo import CATALOGUE
from clinic.errors import InvalidInput, NotFound
from clinic.models import Exam, ExamScreening, Modality, PrepStep, ScreeningQuestion

if TYPE_CHECKING:
    from pathlib import Path

    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

# Line numbers matter: the invalid cases below name the lines of this text.
VALID_YAML = """\
screening_questions:
  - code: pregnancy
    text_fa: آیا باردار هستید؟
    text_en: Are you pregnant?
    blocking_answer: true
    female_only: true
    min_age: 10
    max_age: 55
exams:
  - code: CT-BRAIN
    name_fa: سی‌تی‌اسکن مغز بدون تزریق
    name_en: CT brain without contrast
    modality: CT
    body_part: head
    duration_minutes: 15
    screening: [pregnancy]
    preparation:
      - kind: fasting
        hours_before: 6
        text_fa: از ۶ ساعت قبل چیزی نخورید.
        text_en: Nothing to eat for 6 hours.
"""

CSV_HEADER = (
    "code,name_fa,name_en,modality,body_part,duration_minutes,contrast,needs_review,walk_in,"
    "screening,preparation\n"
)
CSV_CT_CONTRAST = (
    'CT-ABD-C,سی‌تی‌اسکن شکم و لگن با تزریق,"CT abdomen, pelvis with contrast",CT,abdomen,۳۰,'
    "true,yes,false,pregnancy,fasting;۶;از ۶ ساعت قبل چیزی نخورید.;Nothing to eat for 6 hours."
    " | lab;;جواب آزمایش کراتینین را بیاورید.;Bring a creatinine result.\n"
)
CSV_MRI_KNEE = "MRI-KNEE,ام‌آر‌آی زانو,MRI knee,mri,knee,30,,true,,,\n"


def write(tmp_path: Path, text: str, name: str = "catalogue.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def count(uow: UnitOfWork, model: type[object]) -> int:
    return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def test_demo_catalogue_imports_every_exam_with_its_instructions(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        result = await import_catalogue(uow, CATALOGUE)
        await uow.commit()
        ct = await get_exam(uow, "ct-abd-pel-c")
        mri = await exams_for_modality(uow, "mri")
        radiography = await exams_for_modality(uow, Modality.RADIOGRAPHY)
        questions = await count(uow, ScreeningQuestion)
    assert (result.created, result.updated, result.questions) == (27, 0, 10)
    assert ct.name_fa == "سی‌تی‌اسکن شکم و لگن با تزریق"
    assert ct.contrast
    assert ct.needs_review
    assert ct.duration_minutes == 30
    steps = {(s.kind, s.hours_before) for s in ct.preparation}
    assert {("fasting", 6.0), ("lab", None)} <= steps
    first_questions = [q.code for q in ct.questions][:3]
    assert first_questions == ["pregnancy", "breastfeeding", "kidney_disease"]
    assert len(mri) == 6
    assert all(e.needs_review for e in mri)
    assert len(radiography) == 6
    assert all(e.walk_in and e.duration_minutes == 10 for e in radiography)
    assert questions == 10


async def test_reimporting_changes_only_what_changed(env: ClinicEnv, tmp_path: Path) -> None:
    async with env.uow() as uow:
        await import_catalogue(uow, CATALOGUE)
        await uow.commit()
        steps_before = [s.id for s in (await get_exam(uow, "CT-ABD-PEL-C")).preparation]
        rows_before = [await count(uow, m) for m in (Exam, PrepStep, ExamScreening)]
        again = await import_catalogue(uow, CATALOGUE)
        edited = CATALOGUE.read_text(encoding="utf-8").replace(
            "duration_minutes: 45", "duration_minutes: 60"
        )
        changed = await import_catalogue(uow, write(tmp_path, edited))
        await uow.commit()
        rows_after = [await count(uow, m) for m in (Exam, PrepStep, ExamScreening)]
        ct = await get_exam(uow, "CT-ABD-PEL-C")
        mri = await get_exam(uow, "MRI-BRAIN-C")
    assert (again.created, again.updated, again.unchanged, again.questions) == (0, 0, 27, 0)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 26)
    assert rows_after == rows_before
    assert mri.duration_minutes == 60
    # Pending preparation reminders point at step ids: an untouched exam keeps them.
    assert [s.id for s in ct.preparation] == steps_before


async def test_new_instructions_replace_the_old_ones(env: ClinicEnv, tmp_path: Path) -> None:
    water = VALID_YAML.replace("kind: fasting", "kind: water").replace(
        "screening: [pregnancy]", "screening: []"
    )
    async with env.uow() as uow:
        await import_catalogue(uow, write(tmp_path, VALID_YAML))
        result = await import_catalogue(uow, write(tmp_path, water, "new.yaml"))
        await uow.commit()
        exam = await get_exam(uow, "CT-BRAIN")
    assert result.updated == 1
    assert [s.kind for s in exam.preparation] == ["water"]
    assert exam.questions == ()


INVALID_YAML = [
    pytest.param(
        "duration_minutes: 15", "duration_minutes: 300", 15,
        "duration_minutes must be a whole number of minutes between 5 and 240", id="duration",
    ),
    pytest.param("modality: CT", "modality: PET", 13, "unknown modality 'PET'", id="modality"),
    pytest.param(
        "body_part: head\n", "body_part: head\n    room: 3\n", 15, "unknown field 'room'",
        id="unknown-field",
    ),
    pytest.param(
        "    name_en: CT brain without contrast\n", "", 10, "name_en is required", id="missing"
    ),
    pytest.param(
        "screening: [pregnancy]", "screening: [pregnancy, pacemaker]", 16,
        "screening question pacemaker is not defined", id="undefined-screening",
    ),
    pytest.param(
        "hours_before: 6", "hours_before: -2", 19, "hours_before must not be negative",
        id="negative-hours",
    ),
    pytest.param(
        "female_only: true", "female_only: perhaps", 6, "female_only must be true or false",
        id="bad-boolean",
    ),
    pytest.param(
        "name_fa: سی‌تی‌اسکن مغز بدون تزریق", "name_fa: ''", 11, "name_fa must not be empty",
        id="empty-persian-name",
    ),
    pytest.param(
        "name_fa: سی‌تی‌اسکن مغز بدون تزریق", "name_fa: CT brain", 11,
        "name_fa must be written in Persian", id="english-persian-name",
    ),
    pytest.param(
        "    blocking_answer: true\n", "", 2, "blocking_answer is required", id="no-blocking"
    ),
    pytest.param("kind: fasting", "kind: diet", 18, "unknown preparation kind", id="kind"),
    pytest.param(
        "modality: CT", "modality: CT\n    modality: MR", 14, "modality is given twice",
        id="duplicate-key",
    ),
    pytest.param("modality: CT", "modality: [CT", 14, "this is not valid YAML", id="syntax"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "message"), INVALID_YAML)
async def test_invalid_yaml_names_the_line_and_writes_nothing(
    env: ClinicEnv, tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in VALID_YAML
    path = write(tmp_path, VALID_YAML.replace(old, new))
    async with env.uow() as uow:
        with pytest.raises(CatalogueError) as caught:
            await import_catalogue(uow, path)
        await uow.commit()
        written = [await count(uow, m) for m in (Exam, ScreeningQuestion, PrepStep)]
    assert any(n == line and message in text for n, text in caught.value.problems), (
        caught.value.problems
    )
    assert "nothing was imported" in caught.value.render()
    assert written == [0, 0, 0]


async def test_duplicate_exam_code_points_at_the_first_one(env: ClinicEnv, tmp_path: Path) -> None:
    exam = VALID_YAML[VALID_YAML.index("  - code: CT-BRAIN") :]
    path = write(tmp_path, VALID_YAML + exam)
    async with env.uow() as uow:
        with pytest.raises(CatalogueError) as caught:
            await import_catalogue(uow, path)
    assert caught.value.problems == [(22, "exam code CT-BRAIN is already used on line 10")]


async def test_every_problem_is_reported_at_once_and_the_old_catalogue_stays(
    env: ClinicEnv, tmp_path: Path
) -> None:
    broken = VALID_YAML.replace("modality: CT", "modality: PET").replace(
        "duration_minutes: 15", "duration_minutes: ten"
    )
    async with env.uow() as uow:
        await import_catalogue(uow, write(tmp_path, VALID_YAML))
        await uow.commit()
        with pytest.raises(CatalogueError) as caught:
            await import_catalogue(uow, write(tmp_path, broken, "broken.yaml"))
        await uow.commit()
        exam = await get_exam(uow, "CT-BRAIN")
    assert [line for line, _ in caught.value.problems] == [13, 15]
    assert exam.modality == "CT"
    assert exam.duration_minutes == 15


async def test_persian_digits_are_accepted_in_numbers(env: ClinicEnv, tmp_path: Path) -> None:
    text = VALID_YAML.replace("duration_minutes: 15", "duration_minutes: ۲۰").replace(
        "hours_before: 6", "hours_before: ۰٫۵"
    )
    async with env.uow() as uow:
        await import_catalogue(uow, write(tmp_path, text))
        await uow.commit()
        exam = await get_exam(uow, "CT-BRAIN")
    assert exam.duration_minutes == 20
    assert exam.preparation[0].hours_before == 0.5


async def test_screening_questions_already_in_the_database_can_be_used(
    env: ClinicEnv, tmp_path: Path
) -> None:
    questions_only = VALID_YAML[: VALID_YAML.index("exams:")]
    exams_only = VALID_YAML[VALID_YAML.index("exams:") :]
    async with env.uow() as uow:
        await import_catalogue(uow, write(tmp_path, questions_only, "questions.yaml"))
        await uow.commit()
        result = await import_catalogue(uow, write(tmp_path, exams_only, "exams.yml"))
        await uow.commit()
        exam = await get_exam(uow, "CT-BRAIN")
    assert (result.created, result.questions) == (1, 0)
    assert [q.code for q in exam.questions] == ["pregnancy"]


async def test_csv_imports_one_exam_per_row(env: ClinicEnv, tmp_path: Path) -> None:
    questions = VALID_YAML[: VALID_YAML.index("exams:")]
    csv = write(tmp_path, CSV_HEADER + CSV_CT_CONTRAST + CSV_MRI_KNEE, "exams.csv")
    async with env.uow() as uow:
        await import_catalogue(uow, write(tmp_path, questions))
        result = await import_catalogue(uow, csv)
        await uow.commit()
        ct = await get_exam(uow, "CT-ABD-C")
        mri = await get_exam(uow, "MRI-KNEE")
    assert (result.created, result.updated) == (2, 0)
    assert ct.name_en == "CT abdomen, pelvis with contrast"
    assert ct.duration_minutes == 30
    assert ct.contrast
    assert ct.needs_review
    assert not ct.walk_in
    assert [(s.kind, s.hours_before) for s in ct.preparation] == [("fasting", 6.0), ("lab", None)]
    assert [q.code for q in ct.questions] == ["pregnancy"]
    assert mri.modality == "MR"
    assert mri.needs_review
    assert mri.preparation == ()


INVALID_CSV = [
    pytest.param(
        CSV_HEADER + CSV_CT_CONTRAST, 2, "screening question pregnancy is not defined",
        id="csv-cannot-define-questions",
    ),
    pytest.param(
        CSV_HEADER + CSV_MRI_KNEE.replace(",30,", ",۳۰۰,"), 2,
        "duration_minutes must be a whole number of minutes", id="duration",
    ),
    pytest.param(
        CSV_HEADER.replace("body_part,", ""), 1, "column body_part is missing", id="missing-column"
    ),
    pytest.param(
        CSV_HEADER + "\n" + CSV_MRI_KNEE.replace(",,,\n", ",,,metal;remove metal\n"), 3,
        "a preparation step needs kind;hours_before;text_fa;text_en", id="step-shape",
    ),
    pytest.param(
        CSV_HEADER + CSV_MRI_KNEE * 2, 3, "exam code MRI-KNEE is already used on line 2",
        id="duplicate",
    ),
    pytest.param(
        CSV_HEADER + CSV_MRI_KNEE.replace(",mri,", ",pet,"), 2, "unknown modality 'pet'",
        id="modality",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), INVALID_CSV)
async def test_invalid_csv_names_the_line_and_writes_nothing(
    env: ClinicEnv, tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text, "exams.csv")
    async with env.uow() as uow:
        with pytest.raises(CatalogueError) as caught:
            await import_catalogue(uow, path)
        await uow.commit()
        exams = await count(uow, Exam)
    assert any(n == line and message in text for n, text in caught.value.problems), (
        caught.value.problems
    )
    assert exams == 0


async def test_unknown_file_type_is_refused(env: ClinicEnv, tmp_path: Path) -> None:
    async with env.uow() as uow:
        with pytest.raises(CatalogueError, match=r"1 problem"):
            await import_catalogue(uow, write(tmp_path, VALID_YAML, "catalogue.txt"))
        result = await import_catalogue(uow, write(tmp_path, VALID_YAML, "c.txt"), fmt="yaml")
    assert result.created == 1


async def test_exams_for_modality_lists_only_its_active_exams(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await import_catalogue(uow, CATALOGUE)
        await uow.session.execute(
            update(Exam).where(Exam.code == "US-THYROID").values(active=False)
        )
        await uow.commit()
        ultrasound = await exams_for_modality(uow, "ultrasound")
        mammography = await exams_for_modality(uow, "MG")
        with pytest.raises(InvalidInput):
            await exams_for_modality(uow, "PET")
    codes = [e.code for e in ultrasound]
    assert codes == ["US-ABD-PEL", "US-PELVIS", "US-BREAST", "US-DOPPLER-LL-VEIN", "US-OBSTETRIC"]
    assert all(e.modality == "US" for e in ultrasound)
    assert [e.name_fa for e in mammography] == ["ماموگرافی دوطرفه (غربالگری)"]


async def test_get_exam_of_an_unknown_code_says_not_found(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        with pytest.raises(NotFound):
            await get_exam(uow, "CT-NOPE")
