"""The registration steps the patient and a health worker share (``bot.registration_steps``),
the quick way: the same answer is checked the same in both modes, each mode's own words and
buttons around it (the one-time SMS code in each), and a lost draft says so rather than
registering half a patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot import registration_steps as steps
from bot.conversations import registration as reg
from bot.health_worker import register
from clinic.actors import Actor
from clinic.errors import InvalidMobile, InvalidNationalCode
from clinic.models import Patient
from clinic.staff import add_health_house, add_health_worker
from tests.bot.sms import code_sent, deliver_sms
from tests.factories import add_patient, build_department, national_code
from tests.handlers.offline import OfflineBot, OfflineChat, inline_buttons, shown

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Call, Seed

PATIENT_USER, WORKER_USER = 7101, 7102
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def seed() -> Seed:
    """A department of its own (``build_department``): a CT and an MRI, no demo data."""
    return build_department


async def add_worker(env: ClinicEnv, user_id: int = WORKER_USER) -> int:
    """An active health worker whose chat account is ``user_id``; their id."""
    async with env.uow() as uow:
        house = await add_health_house(uow, Actor.system(), name="خانه بهداشت اسفراین")
        worker = await add_health_worker(
            uow, Actor.system(), house_id=house.id, full_name="مریم احمدی", mobile="09151234567"
        )
        worker.telegram_user_id = user_id
        await uow.commit()
    return worker.id


async def share_contact(chat: OfflineChat, phone: str) -> list[Call]:
    """Share this account's own number with the contact button."""
    message = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": chat.user_id, "type": "private"},
        "from": chat._user(),
        "contact": {"phone_number": phone, "first_name": "کاربر", "user_id": chat.user_id},
    }
    return await chat._process({"message": message})


async def _patient_at_national_code(bot: OfflineBot) -> OfflineChat:
    chat = bot.chat(PATIENT_USER)
    await chat.say("/start")
    assert shown(await share_contact(chat, "989121234567")) == [chat._(reg.ASK_NATIONAL_CODE)]
    return chat


async def _worker_at_national_code(bot: OfflineBot, env: ClinicEnv) -> OfflineChat:
    await add_worker(env)
    chat = bot.chat(WORKER_USER)
    assert shown(await chat.press("wreg")) == [chat._(register.ASK_NATIONAL_CODE)]
    return chat


async def _coded(chat: OfflineChat, env: ClinicEnv, mobile: str) -> list[Call]:
    """Type the one-time code the text message to ``mobile`` carries."""
    return await chat.say(await code_sent(env, mobile))


async def _patients(env: ClinicEnv) -> int:
    async with env.uow() as uow:
        return int(await uow.session.scalar(select(func.count(Patient.id))) or 0)


async def test_a_malformed_national_code_is_refused_alike_in_both_modes(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient = await _patient_at_national_code(bot)
    worker = await _worker_at_national_code(bot, sqlite_env)
    refusal = InvalidNationalCode().render(patient._, persian_digits=True)
    for typed in ("123", "1234567890", "۱۲۳۴۵۶۷۸۹۰"):  # short; a wrong check digit, twice
        assert shown(await patient.say(typed)) == [refusal]
        calls = await worker.say(typed)
        assert shown(calls) == [refusal]
        assert [label for label, _ in inline_buttons(calls)] == [worker._("‹ Health worker menu")]
    # Refused, the question still waits: a valid code goes on to each mode's next question.
    assert shown(await patient.say(national_code(1))) == [patient._(reg.CODE_SENT)]
    assert shown(await worker.say(national_code(2))) == [worker._(register.ASK_MOBILE)]


async def test_persian_and_arabic_digits_register_the_same_patient_in_both_modes(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient = await _patient_at_national_code(bot)
    worker = await _worker_at_national_code(bot, sqlite_env)
    _ = patient._
    assert shown(await patient.say(national_code(3).translate(PERSIAN))) == [_(reg.CODE_SENT)]
    assert shown(await worker.say(national_code(4).translate(ARABIC))) == [_(register.ASK_MOBILE)]
    calls = await worker.say("۰۹۱۳۱۲۳۴۵۶۷")
    assert shown(calls) == [_(register.CODE_SENT)]
    assert inline_buttons(calls)[0] == (_(steps.CODE_AGAIN), "wotp")
    sent = {s.mobile: s.code for s in await deliver_sms(sqlite_env)}
    patient_code, worker_code = sent["09121234567"], sent["09131234567"]
    assert patient_code is not None and worker_code is not None
    assert shown(await patient.say(patient_code.translate(ARABIC))) == [_(reg.ASK_FIRST_NAME)]
    assert shown(await worker.say(worker_code.translate(PERSIAN))) == [_(register.ASK_FIRST_NAME)]
    for chat, asked in ((patient, reg), (worker, register)):
        assert shown(await chat.say("زهرا")) == [_(asked.ASK_LAST_NAME)]
        assert shown(await chat.say("کریمی")) == [_(asked.ASK_BIRTH_YEAR)]
    calls = await patient.say("١٣٦٥")  # Arabic digits
    assert shown(calls) == [_(reg.ASK_SEX)]
    assert inline_buttons(calls) == [(_(reg.FEMALE), "sex:female"), (_(reg.MALE), "sex:male")]
    calls = await worker.say("۱۳۴۰")
    assert shown(calls) == [_(register.ASK_SEX)]
    assert inline_buttons(calls) == [
        (_(register.FEMALE), "wsex:female"),
        (_(register.MALE), "wsex:male"),
    ]
    assert _(reg.DONE).format(name="زهرا") in shown(await patient.press("sex:female"))
    assert inline_buttons(await worker.press("wsex:female"))[0] == (_(register.AGREES), "wagree")
    assert shown(await worker.press("wagree"))[0].startswith(
        _(register.REGISTERED).format(name="زهرا کریمی")
    )
    async with sqlite_env.uow() as uow:
        rows = (await uow.session.execute(select(Patient).order_by(Patient.id))).scalars()
        found = [(p.national_code, p.mobile, p.birth_year, p.health_worker_id) for p in rows]
    assert [f[:3] for f in found] == [
        (national_code(3), "09121234567", 1365),
        (national_code(4), "09131234567", 1340),
    ]
    assert found[0][3] is None and found[1][3] is not None


async def test_a_name_with_digits_is_asked_again_in_each_modes_words(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient = await _patient_at_national_code(bot)
    worker = await _worker_at_national_code(bot, sqlite_env)
    await patient.say(national_code(5))
    await _coded(patient, sqlite_env, "09121234567")
    await worker.say(national_code(6))
    await worker.say("09131234567")
    await _coded(worker, sqlite_env, "09131234567")
    n = "۸۰"
    assert shown(await patient.say("زهرا۲")) == [
        patient._("Please write the first name in letters (at most {n}).").format(n=n)
    ]
    assert shown(await worker.say("زهرا۲")) == [worker._(register.NAME_LETTERS).format(n=n)]
    assert shown(await patient.say("ز" * 81)) == [
        patient._("Please write the first name in letters (at most {n}).").format(n=n)
    ]
    assert shown(await patient.say("  زهرا  ")) == [patient._(reg.ASK_LAST_NAME)]
    assert shown(await worker.say("زهرا")) == [worker._(register.ASK_LAST_NAME)]


async def test_a_mobile_typed_for_the_patient_is_checked(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    worker = await _worker_at_national_code(bot, sqlite_env)
    await worker.say(national_code(7))
    refusal = InvalidMobile().render(worker._, persian_digits=True)
    assert shown(await worker.say("12345")) == [refusal]
    assert shown(await worker.say("۰۹۱۳۱۲۳۴۵۶۷")) == [worker._(register.CODE_SENT)]


async def test_a_lost_draft_registers_nobody_in_either_mode(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    patient = await _patient_at_national_code(bot)
    await patient.say(national_code(8))
    await _coded(patient, sqlite_env, "09121234567")
    for answer in ("علی", "رضایی", "1360"):
        await patient.say(answer)
    draft = bot.application.user_data[PATIENT_USER]["registration"]
    del draft["national_code"]  # as if a part of the draft were lost
    calls = await patient.press("sex:male")
    assert shown(calls) == [patient._(reg.LOST)]
    worker = await _worker_at_national_code(bot, sqlite_env)
    await worker.say("/cancel")
    assert shown(await worker.press("wsex:male")) == [worker._(register.LOST)]
    assert shown(await worker.press("wagree")) == [worker._(register.LOST)]
    assert await _patients(sqlite_env) == 0
    # The patient starts again from /start, as the message says.
    assert shown(await patient.press("sex:male")) == []


async def test_a_workers_own_patient_is_updated_without_a_code(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    worker = await _worker_at_national_code(bot, sqlite_env)
    await worker.say(national_code(9))
    await worker.say("09131234567")
    await _coded(worker, sqlite_env, "09131234567")
    for answer in ("زهرا", "کریمی", "1340"):
        await worker.say(answer)
    await worker.press("wsex:female")
    await worker.press("wagree")
    # Registering the same patient again: they are the worker's own, so no code is sent.
    assert shown(await worker.press("wreg")) == [worker._(register.ASK_NATIONAL_CODE)]
    assert shown(await worker.say(national_code(9))) == [worker._(register.ASK_MOBILE)]
    assert shown(await worker.say("09131234568")) == [worker._(register.ASK_FIRST_NAME)]
    assert await deliver_sms(sqlite_env) == []
    for answer in ("زهره", "کریمی", "1340"):
        await worker.say(answer)
    await worker.press("wsex:female")
    await worker.press("wagree")
    async with sqlite_env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
    assert patient is not None
    assert (patient.first_name, patient.mobile, patient.consent_via) == (
        "زهره", "09131234568", "health_worker+sms",
    )  # fmt: skip
    assert await _patients(sqlite_env) == 1


async def test_a_worker_takes_on_a_patient_on_record_with_the_code_their_phone_got(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    async with sqlite_env.uow() as uow:
        pid = await add_patient(uow, 10)  # registered at the desk, mobile 09120000010
        await uow.commit()
    worker = await _worker_at_national_code(bot, sqlite_env)
    assert shown(await worker.say(national_code(10))) == [worker._(register.ASK_MOBILE)]
    assert shown(await worker.say("09131230000")) == [worker._(register.CODE_SENT)]
    [sms] = await deliver_sms(sqlite_env)
    assert sms.mobile == "09120000010" and sms.code is not None  # the record's own phone
    calls = await worker.say(sms.code)
    done = worker._(register.TAKEN_ON).format(name="علی رضایی")
    assert shown(calls)[-1].startswith(done)
    async with sqlite_env.uow() as uow:
        patient = await uow.session.get(Patient, pid)
    assert patient is not None and patient.health_worker_id is not None
    assert patient.mobile == "09120000010"  # the number typed changed nothing
    [told] = await deliver_sms(sqlite_env)
    assert told.mobile == "09120000010" and told.code is None
