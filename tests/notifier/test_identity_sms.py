"""The one-time codes and the record-linked notice go by SMS only, at once (the real worker
and the SMS gateway sandbox): the code to the check's mobile, worked out at send time, in
Persian digits, never the national code; a code replaced before it went is not sent; the
notice goes to the mobile on record even when the patient has a chat; no log line carries a
mobile, a national code or the code (this package's log check)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.claims import claim_own_record
from clinic.i18n import translator
from clinic.identity_checks import Asker, check_code, code_sms, resend, send_code
from clinic.jalali import TEHRAN
from clinic.link_limits import ChatUser
from clinic.models import OutboxMessage, Platform
from clinic.patients import link_chat_account
from clinic.policy import Department
from clinic.text import normalize_digits
from notifier.texts import CODE_SMS, LINKED_SMS
from tests.factories import add_patient, national_code

if TYPE_CHECKING:
    from tests.notifier.conftest import World

ME = ChatUser(Platform.TELEGRAM, 5301)
ASKER = Asker.of_chat(ME)


async def _statuses(world: World) -> list[tuple[str, str, str | None]]:
    async with world.env.uow() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.kind, r.status, r.channel) for r in rows]


async def test_a_code_goes_by_sms_at_once_even_at_night(world: World) -> None:
    world.env.clock.set(datetime(2026, 11, 29, 23, 30, tzinfo=TEHRAN))  # inside quiet hours
    async with world.env.uow() as uow:
        check = await send_code(uow, ASKER, "self", national_code(1), mobile_if_new="09351110000")
        await uow.commit()
        sms = await code_sms(uow, check, 1)
    assert sms is not None
    await world.drain()
    [message] = world.sms.inbox("09351110000")
    department = Department().text("name", "fa")
    expected = (
        translator("fa")
        .gettext(CODE_SMS)
        .format(
            department=department,
            code=sms.code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
        )
    )
    assert message.text == expected
    assert sms.code in normalize_digits(message.text) and national_code(1) not in message.text
    assert world.chat.messages_to(ME.user_id) == []
    assert await _statuses(world) == [("identity_code", "sent", "sms")]


async def test_a_code_replaced_before_it_went_is_not_sent(world: World) -> None:
    async with world.env.uow() as uow:
        check = await send_code(uow, ASKER, "self", national_code(2), mobile_if_new="09351110001")
        await uow.commit()
    world.env.clock.advance(seconds=61)
    async with world.env.uow() as uow:
        await resend(uow, ASKER, check)
        await uow.commit()
        newest = await code_sms(uow, check, 2)
    assert newest is not None
    await world.drain()
    [message] = world.sms.inbox("09351110001")
    assert newest.code in normalize_digits(message.text)
    assert await _statuses(world) == [
        ("identity_code", "cancelled", None),
        ("identity_code", "sent", "sms"),
    ]


async def test_the_mobile_on_record_is_told_by_sms_not_the_new_chat(world: World) -> None:
    async with world.env.uow() as uow:
        pid = await add_patient(uow, 3)  # 09120000003
        await link_chat_account(uow, pid, Platform.TELEGRAM, 5399, 5399)  # their own chat
        check = await send_code(uow, ASKER, "self", national_code(3), mobile_if_new="09351110002")
        await uow.commit()
        sms = await code_sms(uow, check, 1)
    assert sms is not None and sms.mobile == "09120000003"
    await world.drain()
    async with world.env.uow() as uow:
        await check_code(uow, ASKER, check, sms.code)
        await claim_own_record(uow, ME, ME.user_id, check)
        await uow.commit()
    await world.drain()
    texts = [m.text for m in world.sms.inbox("09120000003")]
    linked = (
        translator("fa")
        .gettext(LINKED_SMS)
        .format(
            department=Department().text("name", "fa"),
            phone=Department().phone.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
        )
    )
    assert texts[-1] == linked and len(texts) == 2  # the code, then the notice
    assert world.chat.messages_to(5399) == [] and world.chat.messages_to(ME.user_id) == []
    assert world.sms.inbox("09351110002") == []
