"""A revoked link code's notice reaches the admin who issued it: by chat, else by SMS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.errors import PhoneMismatch
from clinic.link_codes import issue_link_code
from clinic.link_limits import ChatUser
from clinic.linking import SharedContact, bind_link_code, check_link_code
from clinic.models import OutboxMessage, Platform, Role
from clinic.staff import add_health_house, add_health_worker, add_staff

if TYPE_CHECKING:
    from tests.notifier.conftest import World

WORKER_MOBILE = "09151234567"


async def _revoked_code(world: World, *, admin_chat: int | None, admin_mobile: str) -> int:
    """An admin issues a worker's code; three strangers fail to bind it. The admin's id."""
    async with world.env.uow() as uow:
        admin = await add_staff(
            uow, Actor.system(), full_name="مدیر بخش", roles=["admin"], mobile=admin_mobile,
            telegram_user_id=admin_chat,
        )  # fmt: skip
        house = await add_health_house(uow, Actor.system(), name="خانه بهداشت امیرآباد")
        worker = await add_health_worker(
            uow, Actor.system(), house_id=house.id, full_name="مریم احمدی", mobile=WORKER_MOBILE
        )
        code = await issue_link_code(uow, Actor.staff(admin.id, [Role.ADMIN]), "health_worker",
                                     worker.id)  # fmt: skip
        await uow.commit()
    for stranger in (9001, 9002, 9003):
        who = ChatUser(Platform.TELEGRAM, stranger)
        async with world.env.uow() as uow:
            code_id = await check_link_code(uow, code, who)
            try:
                await bind_link_code(uow, code_id, who, SharedContact("09121110000", own=True))
            except PhoneMismatch:
                await uow.commit()
    return admin.id


async def test_the_issuing_admin_is_told_by_chat_with_the_workers_name(world: World) -> None:
    world.chat.create_user(7001, "مدیر")
    await _revoked_code(world, admin_chat=7001, admin_mobile="09120000001")
    await world.drain()
    sent = [m.text or "" for m in world.chat.messages_to(7001) if m.from_bot]
    assert len(sent) == 1
    assert "مریم احمدی" in sent[0] and "🔒" in sent[0]
    async with world.env.uow() as uow:
        row = await uow.session.scalar(select(OutboxMessage))
    assert row is not None and (row.recipient_kind, row.status, row.channel) == (
        "staff",
        "sent",
        "telegram",
    )


async def test_an_admin_without_a_chat_account_gets_an_sms(world: World) -> None:
    await _revoked_code(world, admin_chat=None, admin_mobile="09120000002")
    await world.drain()
    inbox = world.sms.inbox("09120000002")
    assert len(inbox) == 1
    assert "مریم" not in inbox[0].text  # the SMS names no one
