"""Reception books at the desk and on the phone, through the patient's rules and notices."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.desk import DeskRequest, MissingAnswers, book_at_desk
from clinic.errors import NotAllowed, NotFound, ScreeningBlocked, SlotUnavailable
from clinic.jalali import TEHRAN, to_tehran
from clinic.models import AuditEntry, BookingChannel, BookingStatus, OutboxMessage, Referral
from tests.factories import RECEPTION, add_patient, build_department, national_code

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


@pytest.fixture
async def desk(env: ClinicEnv) -> ClinicEnv:
    async with env.uow() as uow:
        await build_department(uow)
        await add_patient(uow, 1, sex="female", birth_year=1370)
        await uow.commit()
    return env


def request(**changes: object) -> DeskRequest:
    values: dict[str, object] = {
        "national_code": national_code(1),
        "exam_code": "CT-BRAIN",
        "insurer": "salamat",
        "answers": {"pregnancy": False},
    }
    return DeskRequest(**(values | changes))  # type: ignore[arg-type]


async def test_a_desk_booking_is_confirmed_and_the_patient_told(desk: ClinicEnv) -> None:
    async with desk.uow() as uow:
        booking = await book_at_desk(uow, RECEPTION, request())
        await uow.commit()
        referral = await uow.session.get_one(Referral, booking.referral_id)
        kinds = set(
            await uow.session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)
            )
        )
        actions = set(await uow.session.scalars(select(AuditEntry.action)))
    assert (booking.status, booking.channel) == (BookingStatus.CONFIRMED, BookingChannel.DESK)
    # In person: from now (Sunday 08:00), not after the lead time the chat keeps.
    assert to_tehran(booking.starts_at) == at(date(2026, 11, 29), 8)
    assert (referral.source, referral.tracking_code) == ("paper", None)  # the paper in hand
    assert "booking_confirmed" in kinds
    assert {"referral.submit", "booking.hold", "booking.confirm"} <= actions


async def test_a_phone_booking_at_a_chosen_time_needing_review(desk: ClinicEnv) -> None:
    chosen = request(
        exam_code="CT-ABD-C", starts_at=at(MONDAY, 9), channel=BookingChannel.PHONE,
        tracking_code="۱۲۳۴۵۶۷۸۹۰۱",
    )  # fmt: skip
    async with desk.uow() as uow:
        booking = await book_at_desk(uow, RECEPTION, chosen)
        await uow.commit()
        referral = await uow.session.get_one(Referral, booking.referral_id)
    assert (booking.channel, to_tehran(booking.starts_at)) == ("phone", at(MONDAY, 9))
    assert (referral.status, referral.tracking_code) == ("approved", "12345678901")


async def test_the_same_rules_as_in_chat(desk: ClinicEnv) -> None:
    async with desk.uow() as uow:
        with pytest.raises(MissingAnswers) as missing:
            await book_at_desk(uow, RECEPTION, request(answers={}))
        assert "pregnancy" in missing.value.render()
        with pytest.raises(ScreeningBlocked):
            await book_at_desk(uow, RECEPTION, request(answers={"pregnancy": True}))
    async with desk.uow() as uow:
        with pytest.raises(SlotUnavailable):  # a Friday
            await book_at_desk(uow, RECEPTION, request(starts_at=at(date(2026, 12, 4), 9)))
    async with desk.uow() as uow:
        with pytest.raises(NotFound):
            await book_at_desk(uow, RECEPTION, request(national_code=national_code(7)))
        with pytest.raises(NotAllowed):
            await book_at_desk(uow, Actor.patient(1), request())


async def test_on_the_phone_the_first_free_time_keeps_the_lead_time(desk: ClinicEnv) -> None:
    async with desk.uow() as uow:
        booking = await book_at_desk(uow, RECEPTION, request(channel=BookingChannel.PHONE))
    # Sunday 08:00 plus the two hours a patient needs to come in.
    assert to_tehran(booking.starts_at) == at(date(2026, 11, 29), 10)
