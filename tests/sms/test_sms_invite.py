"""Only SMS invite a one-digit answer (chat keeps its buttons), only for reminders and offers,
and only while replies are read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.models import OutboxMessage
from clinic.outbox import Notice
from clinic.policy import Policy
from notifier.render import render
from tests.factories import add_patient, build_department
from tests.sms.replies_world import DEPARTMENT, POLICY, WEDNESDAY, book, invite, tehran

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv


async def _rendered(env: ClinicEnv, policy: Policy, lang: str) -> dict[str, tuple[str, str]]:
    async with env.uow(policy) as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        await book(uow, dept, patient, tehran(WEDNESDAY, 9))
        rows = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        found = {}
        for row in rows:
            shown = await render(uow, row, lang, DEPARTMENT)
            found[row.kind] = (shown.chat, shown.sms)
        return found


@pytest.mark.parametrize("lang", ["fa", "en"])
async def test_a_reminder_by_sms_invites_a_digit_and_its_chat_text_does_not(
    sqlite_env: ClinicEnv, lang: str
) -> None:
    shown = await _rendered(sqlite_env, POLICY, lang)
    chat, sms = shown[Notice.REMINDER.value]
    assert sms.endswith("\n" + invite(Notice.REMINDER, lang))
    assert invite(Notice.REMINDER, lang) not in chat
    _, confirmation_sms = shown[Notice.BOOKING_CONFIRMED.value]
    assert invite(Notice.REMINDER, lang) not in confirmation_sms


async def test_no_sms_invites_an_answer_while_replies_are_not_read(
    sqlite_env: ClinicEnv,
) -> None:
    shown = await _rendered(sqlite_env, Policy(), "fa")
    assert all(invite(Notice.REMINDER) not in sms for _, sms in shown.values())
