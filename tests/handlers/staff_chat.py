"""What the quick staff-desk tests share: a staff member in a chat, a patient, and what the bot
showed (texts and the buttons of its last message)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.models import Booking, Exam
from clinic.staff import add_staff
from tests.factories import add_patient, national_code

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import Call, OfflineChat


async def member(env: ClinicEnv, user_id: int, *roles: str) -> int:
    """A staff member with ``roles`` whose chat account is ``user_id``; their id."""
    async with env.uow() as uow:
        added = await add_staff(
            uow, Actor.system(), full_name="کارمند", roles=roles, telegram_user_id=user_id
        )
        await uow.commit()
    return added.id


async def patient(env: ClinicEnv, n: int, *, sex: str = "male", year: int = 1360) -> int:
    """Patient number ``n`` (national code ``national_code(n)``), registered; their id."""
    async with env.uow() as uow:
        pid = await add_patient(uow, n, sex=sex, birth_year=year)
        await uow.commit()
    return pid


def code(n: int) -> str:
    """Patient ``n``'s national code as typed with Persian digits."""
    return national_code(n).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def buttons(calls: list[Call]) -> dict[str, str]:
    """The inline buttons of the last message shown: label → callback data."""
    for c in reversed(calls):
        markup = c.params.get("reply_markup")
        if c.method in ("sendMessage", "editMessageText") and isinstance(markup, dict):
            rows = markup.get("inline_keyboard", [])
            return {b["text"]: b["callback_data"] for row in rows for b in row}
    return {}


async def tap(chat: OfflineChat, calls: list[Call], msgid: str) -> list[Call]:
    """Press the button labelled ``msgid`` (translated) on the last message shown."""
    offered = buttons(calls)
    label = chat._(msgid)
    assert label in offered, (label, list(offered))
    return await chat.press(offered[label])


async def exam_id(env: ClinicEnv, exam_code: str) -> int:
    """The id of the exam with this code."""
    async with env.uow() as uow:
        found = await uow.session.scalar(select(Exam.id).where(Exam.code == exam_code))
    assert found is not None
    return int(found)


async def bookings(env: ClinicEnv, patient_id: int) -> list[Booking]:
    """The patient's bookings, oldest first."""
    async with env.uow() as uow:
        rows = await uow.session.scalars(
            select(Booking).where(Booking.patient_id == patient_id).order_by(Booking.id)
        )
        return list(rows)
