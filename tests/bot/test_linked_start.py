"""/start from a linked health worker or staff member points to their menu, not registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversations import registration as reg
from clinic.actors import Actor
from clinic.staff import add_health_house, add_health_worker, add_staff

if TYPE_CHECKING:
    from tests.bot.harness import Harness


async def test_linked_worker_and_staff_are_not_asked_to_register(harness: Harness) -> None:
    async with harness.env.uow() as uow:
        house = await add_health_house(uow, Actor.system(), name="خانه بهداشت امیرآباد")
        worker = await add_health_worker(
            uow, Actor.system(), house_id=house.id, full_name="مریم احمدی", mobile="09151234567"
        )
        worker.telegram_user_id = 8101
        await add_staff(
            uow, Actor.system(), full_name="سارا نوری", roles=["reception"], telegram_user_id=8102
        )
        await uow.commit()
    behvarz, reception, stranger = harness.user(8101), harness.user(8102), harness.user(8103)
    await behvarz.command("start")
    await reception.command("start")
    await stranger.command("start")
    assert behvarz.last_text() == behvarz._(reg.WORKER_HINT)
    assert reception.last_text() == reception._(reg.STAFF_HINT)
    assert "/staff" not in stranger.last_text()
    assert stranger.last().markup is not None  # the privacy notice with the contact button
