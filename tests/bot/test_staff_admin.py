"""Admin through the bot: a closure with its preview moving 50 bookings, re-opening, new staff."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.staff import admin, menu
from clinic.link_codes import code_digest
from clinic.models import (
    AuditEntry,
    Booking,
    Closure,
    HealthWorker,
    LinkCode,
    OutboxMessage,
    Role,
    Staff,
)
from clinic.text import to_persian_digits
from tests.bot.harness import Harness, assert_calm
from tests.bot.test_staff_reception import TUESDAY, book_many, ids, staff_chat

if TYPE_CHECKING:
    from collections.abc import Iterator

MOBILE = "09151234567"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def test_closing_a_device_moves_fifty_bookings_with_fifty_notices(
    harness: Harness,
) -> None:
    booked = await book_many(harness, "XR-1", TUESDAY, 50)
    xr1, _ = await ids(harness, "XR-1", "XR-CHEST")
    chat, _ = await staff_chat(harness, 7101, "admin")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[3][1])
    assert chat.last_text() == chat._(admin.WHAT_TO_CLOSE)
    await chat.press("رادیوگرافی اتاق ۱")
    assert chat.last_text() == chat._(admin.ASK_DAYS)
    await chat.say("۱۴۰۵/۰۹/۱۰")
    assert chat.last_text() == chat._(admin.ASK_WHY)
    await chat.say("تعمیر دستگاه")
    preview = chat.last_text()
    assert "۵۰" in preview and "تعمیر دستگاه" in preview
    async with harness.env.uow() as uow:  # nothing changed before confirming
        assert await uow.session.scalar(select(func.count(Closure.id))) == 0
    await chat.press_msgid(admin.CONFIRM_CLOSE)
    assert chat.last_text() == chat._(admin.CLOSED).format(
        affected="۵۰", moved="۵۰", cancelled="۰"
    )
    async with harness.env.uow() as uow:
        old = list(await uow.session.scalars(select(Booking).where(Booking.id.in_(booked))))
        new = list(
            await uow.session.scalars(select(Booking).where(Booking.replaces_id.in_(booked)))
        )
        notices = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind.in_(["closure_moved", "closure_cancelled"])
            )
        )
    assert {b.status for b in old} == {"rescheduled"}
    assert len(new) == 50 and {b.status for b in new} == {"confirmed"}
    assert not [b for b in new if b.device_id == xr1 and b.starts_at.date() == TUESDAY]
    assert notices == 50

    # A second tap on the confirmation closes nothing twice.
    await chat.forge("sclok")
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Closure.id))) == 1

    # Re-open: the closure is listed and lifted.
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[4][1])
    await chat.press(chat.buttons()[0])
    assert chat.last_text() == chat._(admin.LIFTED)
    async with harness.env.uow() as uow:
        closure = await uow.session.scalar(select(Closure))
    assert closure is not None and closure.cancelled_at is not None


async def test_the_preview_can_be_declined_and_a_bad_date_asked_again(harness: Harness) -> None:
    await book_many(harness, "XR-2", TUESDAY, 3)
    chat, _ = await staff_chat(harness, 7102, "admin")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[3][1])
    await chat.press_msgid(admin.WHOLE)
    await chat.say("۱۴۰۴/۱۲/۳۰")
    assert chat.last_text() == chat._("That date does not exist. Please write it like 1403/12/30.")
    await chat.say("1405/09/10 - 1405/09/11")
    await chat.say("آلودگی هوا")
    assert "۳" in chat.last_text()
    await chat.press_msgid(admin.DONT)
    assert chat.last_text() == chat._(admin.NOTHING)
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Closure.id))) == 0


async def test_admin_adds_a_staff_member_and_a_health_worker_with_link_codes(
    harness: Harness,
) -> None:
    chat, admin_id = await staff_chat(harness, 7103, "admin")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[5][1])
    await chat.press("⬜ " + chat._(admin.ROLE_NAMES[Role.RECEPTION]))
    await chat.press("⬜ " + chat._(admin.ROLE_NAMES[Role.REPORTING]))
    await chat.press_msgid(admin.NEXT)
    assert chat.last_text() == chat._(admin.ASK_STAFF_NAME)
    await chat.say("مریم احمدی")  # no mobile: asked again, nothing added
    assert chat.last_text() == chat._("The mobile number must look like 09123456789.")
    await chat.say("مریم احمدی ۰۹۱۳ ۱۲۳ ۴۵۶۷")
    async with harness.env.uow() as uow:
        member = await uow.session.scalar(select(Staff).where(Staff.full_name == "مریم احمدی"))
        assert member is not None and member.mobile == "09131234567"
        stored = await uow.session.scalar(
            select(LinkCode.code_hash).where(LinkCode.target_id == member.id)
        )
    assert stored == code_digest(_code_in(chat.last_text()), b"")

    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[6][1])
    await chat.press(chat.buttons()[0])
    await chat.say("زهرا کریمی " + to_persian_digits(MOBILE))
    async with harness.env.uow() as uow:
        worker = await uow.session.scalar(
            select(HealthWorker).where(HealthWorker.mobile == MOBILE)
        )
        assert worker is not None and worker.full_name == "زهرا کریمی"
        stored = await uow.session.scalar(
            select(LinkCode.code_hash).where(
                LinkCode.kind == "health_worker", LinkCode.target_id == worker.id
            )
        )
    assert stored == code_digest(_code_in(chat.last_text()), b"")
    async with harness.env.uow() as uow:
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_id == admin_id)
            )
        )
    assert actions.count("link_code.issue") == 2
    assert {"staff.add", "health_worker.add"} <= set(actions)


def _code_in(text: str) -> str:
    """The one 10-digit code a message shows."""
    codes: list[str] = re.findall(r"[0-9]{10}", text, re.ASCII)
    assert len(set(codes)) == 1, text
    return codes[0]
