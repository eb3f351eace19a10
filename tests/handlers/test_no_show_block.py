"""A patient past the no-show limit who would book in chat is asked, kindly, to call the
department (its number in Persian digits) before any day is shown, and nothing is held; once
reception forgives the missed appointments the same press holds the time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from clinic.actors import Actor
from clinic.availability import bookable_days, bookable_times
from clinic.errors import NoShowLimit
from clinic.jalali import to_tehran
from clinic.models import Booking, Exam, Patient, Platform
from clinic.no_shows import lift_block
from clinic.patients import link_chat_account
from clinic.policy import Department
from tests.factories import RECEPTION, add_patient, approved_referral
from tests.handlers.offline import shown

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import OfflineBot

USER = 8401


async def test_past_the_limit_the_patient_is_sent_to_reception(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    env = sqlite_env
    async with env.uow() as uow:
        patient = await add_patient(uow, 1)
        await link_chat_account(uow, patient, Platform.TELEGRAM, USER, USER)
        exam = (await uow.session.scalars(select(Exam).where(Exam.code == "CT-BRAIN"))).one()
        referral = await approved_referral(uow, patient, exam)
        await uow.session.execute(update(Patient).where(Patient.id == patient).values(no_shows=3))
        day = (await bookable_days(uow, exam.id))[0].day
        first = (await bookable_times(uow, exam.id, day))[0]
        await uow.commit()
    moment = f"{to_tehran(first.starts_at):%Y%m%d%H%M}"
    press = f"hold:ref:{referral}:{first.device_id}:{moment}"
    chat = bot.chat(USER)
    refusal = NoShowLimit(for_patient=True, count=3, phone=Department().phone)
    # Told as soon as the days would be shown, and again at a hold (an old button).
    assert shown(await chat.press(f"days:ref:{referral}:0")) == [
        refusal.render(chat._, persian_digits=True)
    ]
    texts = shown(await chat.press(press))
    assert texts == [refusal.render(chat._, persian_digits=True)]
    assert "۰۵۸" in texts[0]  # the department's number, in Persian digits
    async with env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Booking.id))) == 0
        await lift_block(uow, RECEPTION, patient)
        await uow.commit()
    await chat.press(press)
    async with env.uow() as uow:
        held = await uow.session.scalar(select(Booking).where(Booking.patient_id == patient))
    assert held is not None and held.status == "held"
    assert held.created_by == Actor.patient(patient).kind
