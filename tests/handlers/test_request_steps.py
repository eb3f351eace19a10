"""The request steps the patient and a health worker share (``bot.request_steps``), the quick
way: the same exam asks the same questions in both modes, a forged exam or a question the
request does not ask is refused kindly, a tracking code is read alike (Persian digits fine),
and a lost draft submits nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot import booking_steps
from bot.conversations import request as req
from bot.health_worker import request as wreq
from clinic.actors import Actor
from clinic.errors import NotFound
from clinic.models import Exam, Insurer, Platform, Referral, ScreeningQuestion
from clinic.patients import PatientDetails, link_chat_account, register_patient
from tests.factories import add_patient, build_department, national_code, worker_proof
from tests.handlers.offline import OfflineBot, OfflineChat, inline_buttons, shown
from tests.handlers.test_registration_steps import WORKER_USER, add_worker

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Seed

PATIENT_USER = 7201
TRACKING_REFUSED = (
    "The e-prescription tracking code is 4 to 20 digits or letters. Please check it."
)


@pytest.fixture
def seed() -> Seed:
    """A department of its own (``build_department``): a CT and an MRI, no demo data."""
    return build_department


async def _ids(env: ClinicEnv) -> dict[str, int]:
    """The exams' and the safety questions' ids by code."""
    async with env.uow() as uow:
        exams = (await uow.session.execute(select(Exam.code, Exam.id))).tuples()
        questions = (
            await uow.session.execute(select(ScreeningQuestion.code, ScreeningQuestion.id))
        ).tuples()
        return dict([*exams, *questions])


async def _chats(bot: OfflineBot, env: ClinicEnv) -> tuple[OfflineChat, OfflineChat, int]:
    """A registered patient's chat, a health worker's chat and the id of the worker's patient."""
    worker_id = await add_worker(env)
    async with env.uow() as uow:
        own = await add_patient(uow, 11)
        await link_chat_account(uow, own, Platform.TELEGRAM, PATIENT_USER, PATIENT_USER)
        details = PatientDetails(
            national_code=national_code(12),
            mobile="09131234567",
            first_name="زهرا",
            last_name="کریمی",
            birth_year=1340,
            sex="male",
        )
        proof = await worker_proof(uow, worker_id, details.national_code, details.mobile)
        theirs = await register_patient(
            uow, Actor.health_worker(worker_id), details, consent=True, proof=proof
        )
        await uow.commit()
    return bot.chat(PATIENT_USER), bot.chat(WORKER_USER), theirs.id


async def _at_exams(patient: OfflineChat, worker: OfflineChat, pid: int, modality: str) -> None:
    """Both modes at the list of a modality's exams."""
    calls = await patient.say("/request")
    assert shown(calls) == [patient._(req.CHOOSE_MODALITY)]
    assert ("mod:MR" in dict(inline_buttons(calls)).values()) is True
    assert shown(await worker.press(f"wreq:{pid}")) == [worker._(wreq.CHOOSE_MODALITY)]
    for chat, data in ((patient, f"mod:{modality}"), (worker, f"wmod:{pid}:{modality}")):
        assert shown(await chat.press(data)) == [chat._("Which exam?")]


async def _referrals(env: ClinicEnv) -> list[tuple[str, str | None]]:
    async with env.uow() as uow:
        rows = await uow.session.execute(select(Referral.status, Referral.tracking_code))
        return [(status, code) for status, code in rows.tuples()]


async def test_a_forged_exam_is_not_found_in_either_mode(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient, worker, pid = await _chats(bot, sqlite_env)
    await _at_exams(patient, worker, pid, "CT")
    not_found = patient._(NotFound.message)
    assert shown(await patient.press("exam:999999")) == [not_found]
    calls = await worker.press(f"wexam:{pid}:999999")
    assert shown(calls) == [not_found]
    assert [label for label, _ in inline_buttons(calls)] == [worker._("‹ Health worker menu")]
    # The patient's request ended there: the exam buttons of that list are old ones now.
    ids = await _ids(sqlite_env)
    assert shown(await patient.press(f"exam:{ids['CT-BRAIN']}")) == []
    assert await _referrals(sqlite_env) == []


async def test_the_same_question_and_a_blocking_answer_end_both_modes_alike(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient, worker, pid = await _chats(bot, sqlite_env)
    ids = await _ids(sqlite_env)
    await _at_exams(patient, worker, pid, "MR")
    question = "آیا ضربان‌ساز قلب دارید؟"
    calls = await patient.press(f"exam:{ids['MRI-KNEE']}")
    assert shown(calls) == [question]
    yes_no = [(patient._(req.YES), f"scr:{ids['pacemaker']}:1")]
    yes_no.append((patient._(req.NO), f"scr:{ids['pacemaker']}:0"))
    assert inline_buttons(calls) == yes_no
    calls = await worker.press(f"wexam:{pid}:{ids['MRI-KNEE']}")
    assert shown(calls) == [f"{worker._(wreq.ASK_WITH_PATIENT)}\n{question}"]
    assert [data for _, data in inline_buttons(calls)] == [
        f"wscr:{ids['pacemaker']}:{a}" for a in (1, 0)
    ]
    answer = f"{question}\n— {patient._(req.YES)}"
    phone = patient._(req.BLOCKED).split("{")[0]
    texts = shown(await patient.press(f"scr:{ids['pacemaker']}:1"))
    assert texts[0] == answer and texts[1].startswith(phone)
    (shown_to_worker,) = shown(await worker.press(f"wscr:{ids['pacemaker']}:1"))
    assert shown_to_worker.startswith(f"{answer}\n\n{worker._(wreq.BLOCKED).split('{')[0]}")
    assert bot.application.user_data[PATIENT_USER].get("request") is None
    assert bot.application.user_data[WORKER_USER].get("worker_input") is None
    assert await _referrals(sqlite_env) == []


async def test_a_question_the_request_does_not_ask_is_refused_kindly(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient, worker, pid = await _chats(bot, sqlite_env)
    ids = await _ids(sqlite_env)
    await _at_exams(patient, worker, pid, "MR")
    await patient.press(f"exam:{ids['MRI-KNEE']}")
    await worker.press(f"wexam:{pid}:{ids['MRI-KNEE']}")
    other = ids["pregnancy"]  # a real question, but not one this request asks
    for forged in (f"scr:{other}:0", f"scr:{ids['pacemaker']}:7"):
        calls = await patient.press(forged)
        assert shown(calls) == [], forged  # ignored: the question asked still waits
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    texts = shown(await patient.press(f"scr:{ids['pacemaker']}:0"))
    assert texts == [f"آیا ضربان‌ساز قلب دارید؟\n— {patient._(req.NO)}", patient._(req.ASK_SOURCE)]
    assert shown(await worker.press(f"wscr:{other}:0")) == [worker._(wreq.LOST)]
    assert bot.application.user_data[WORKER_USER].get("worker_input") is None


async def test_a_tracking_code_is_read_alike_persian_digits_and_all(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient, worker, pid = await _chats(bot, sqlite_env)
    ids = await _ids(sqlite_env)
    await _at_exams(patient, worker, pid, "CT")
    # A man has no safety question for a CT of the brain: the prescription is asked at once.
    assert shown(await patient.press(f"exam:{ids['CT-BRAIN']}")) == [patient._(req.ASK_SOURCE)]
    assert shown(await worker.press(f"wexam:{pid}:{ids['CT-BRAIN']}")) == [
        worker._(wreq.ASK_SOURCE)
    ]
    refused = patient._(TRACKING_REFUSED)
    assert shown(await patient.say("۱۲")) == [refused]
    assert shown(await worker.say("۱۲")) == [refused]
    calls = await patient.say("۱۲۳-۴۵۶-۷۸۹")
    assert shown(calls) == [patient._(req.ASK_INSURER)]
    assert inline_buttons(calls)[0] == (patient._(req.INSURERS[Insurer.TAMIN]), "ins:tamin")
    calls = await worker.say("٩٨٧٦٥٤٣٢١")  # Arabic digits
    assert shown(calls) == [worker._(wreq.ASK_INSURER)]
    assert inline_buttons(calls)[0] == (worker._(req.INSURERS[Insurer.TAMIN]), "wins:tamin")
    assert shown(await patient.press("ins:nobody")) == []  # not an insurer: ignored
    choose_day = patient._(booking_steps.CHOOSE_DAY)
    assert shown(await patient.press("ins:tamin"))[-1] == choose_day
    assert shown(await worker.press("wins:tamin"))[-1] == choose_day
    assert sorted(await _referrals(sqlite_env)) == [
        ("approved", "123456789"),
        ("approved", "987654321"),
    ]


async def test_a_lost_request_draft_submits_nothing_in_either_mode(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient, worker, pid = await _chats(bot, sqlite_env)
    ids = await _ids(sqlite_env)
    await _at_exams(patient, worker, pid, "CT")
    await patient.press(f"exam:{ids['CT-BRAIN']}")
    await patient.say("123456789")
    del bot.application.user_data[PATIENT_USER]["request"]["exam_id"]  # as if part were lost
    assert shown(await patient.press("ins:tamin")) == [patient._(req.START_AGAIN)]
    assert shown(await worker.press("wins:tamin")) == [worker._(wreq.LOST)]
    async with sqlite_env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Referral.id))) == 0
