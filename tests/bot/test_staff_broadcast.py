"""Broadcasts and reports through the bot: a targeted audience queued once, progress shown."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.staff import broadcast as bc
from bot.staff import menu, reporting
from clinic.actors import Actor
from clinic.daylist import check_in
from clinic.models import AuditEntry, Broadcast, OutboxMessage, OutboxStatus, Report
from clinic.reports import Outcome
from clinic.text import to_persian_digits
from tests.bot.harness import Harness, assert_calm
from tests.bot.test_staff_reception import TUESDAY, book_many, staff_chat

if TYPE_CHECKING:
    from collections.abc import Iterator

WEDNESDAY = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def test_a_targeted_broadcast_is_queued_once_despite_a_double_tap(harness: Harness) -> None:
    await book_many(harness, "XR-1", TUESDAY, 3, first_patient=200)
    await book_many(harness, "XR-1", WEDNESDAY, 2, first_patient=210)  # not in the audience
    await book_many(harness, "XR-2", TUESDAY, 2, first_patient=220)  # nor these
    chat, staff_id = await staff_chat(harness, 7201, "broadcaster")
    await chat.command("staff")
    assert chat.buttons() == [chat._(menu.ITEMS[-1][1])]
    await chat.press_msgid(menu.ITEMS[-1][1])
    await chat.press_msgid(bc.BY_DEVICE)
    await chat.press("رادیوگرافی اتاق ۱")
    await chat.say("۱۴۰۵/۰۹/۱۰")
    await chat.say("x" * 1001)
    assert chat.last_text() == chat._(
        "The message is too long: {length} characters, at most {limit}."
    ).format(length="۱۰۰۱", limit="۱۰۰۰")
    await chat.say("دستگاه رادیوگرافی ۱ فردا از ساعت ۹ کار می‌کند.")
    preview = chat.last_text()
    assert preview == chat._(bc.PREVIEW).format(
        n="۳", text="دستگاه رادیوگرافی ۱ فردا از ساعت ۹ کار می‌کند."
    )
    message_id = chat.last().message_id
    first = chat.fire_press(chat._(bc.SEND), message_id=message_id)
    second = chat.fire_press(chat._(bc.SEND), message_id=message_id)
    await harness.settle()
    assert harness.sandbox.callback_answer(first) is not None
    assert harness.sandbox.callback_answer(second) is not None
    async with harness.env.uow() as uow:
        queued = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "broadcast")
        )
        sent = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "broadcast.send")
        )
        draft = await uow.session.scalar(select(Broadcast))
    assert queued == 3 and sent == 1
    assert draft is not None and draft.status == "queued" and draft.staff_id == staff_id
    progress = chat._(bc.PROGRESS).format(
        id=to_persian_digits(str(draft.id)), total="۳", queued="۳", sent="۰", failed="۰"
    )
    assert chat.last_text() == progress

    # The notifier delivers two of them; the refresh button shows it.
    async with harness.env.uow() as uow:
        rows = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "broadcast").limit(2)
            )
        )
        for row in rows:
            row.status = OutboxStatus.SENT
        await uow.commit()
    await chat.press_msgid(bc.REFRESH)
    assert chat.last_text() == chat._(bc.PROGRESS).format(
        id=to_persian_digits(str(draft.id)), total="۳", queued="۱", sent="۲", failed="۰"
    )


async def test_reporting_marks_corrections_and_says_how_often_the_patient_hears(
    harness: Harness,
) -> None:
    [booking_id] = await book_many(harness, "XR-1", TUESDAY, 1, first_patient=231)
    async with harness.env.uow() as uow:
        await check_in(uow, Actor.system(), booking_id, accession_number="A-78")
        await uow.commit()
    chat, _ = await staff_chat(harness, 7203, "reporting")
    said = chat._(reporting.CORRECTED).format(accession="A-78", n="۲")
    for _ in range(3):
        harness.env.clock.advance(minutes=5)  # each correction at its own time
        await chat.command("staff")
        await chat.press_msgid(menu.ITEMS[8][1])
        await chat.say("A-78")
        assert chat.last_text() == said
    async with harness.env.uow() as uow:
        told = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "report_corrected")
        )
    assert told == 2  # the third is recorded on the report, and nobody is told


async def test_reporting_marks_a_report_final_by_accession_number(harness: Harness) -> None:
    [booking_id] = await book_many(harness, "XR-1", TUESDAY, 1, first_patient=230)
    async with harness.env.uow() as uow:
        await check_in(uow, Actor.system(), booking_id, accession_number="A-77")
        await uow.commit()
    chat, staff_id = await staff_chat(harness, 7202, "reporting")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[7][1])
    await chat.say("A-۷۷")  # Persian digits are fine
    assert chat.last_text() == chat._(reporting.DONE[Outcome.APPLIED]).format(
        accession="A-77", kind=chat._("final")
    )
    async with harness.env.uow() as uow:
        report = await uow.session.scalar(select(Report))
        notices = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "report_ready")
        )
        audited = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "report.final")
        )
    assert report is not None and report.status == "final" and notices == 1
    assert audited is not None and audited.actor_id == staff_id
    assert audited.details["accession"] == "A-77"
