"""A one-time SMS code does not wait behind chat notices the chats' send budgets are pacing:
the worker delivers it in a lane of its own, woken as soon as the code is queued."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from telegram import Bot

from clinic.actors import Actor
from clinic.broadcasts import Audience, draft_broadcast, send_broadcast
from clinic.identity_checks import Asker, send_code
from clinic.link_limits import ChatUser
from clinic.models import Platform, Role
from clinic.policy import Department
from clinic.send_ledger import Bucket
from notifier.budget import SendBudget, SendLimits
from notifier.channels import ChatChannel, SmsChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from notifier.ledger import DbLedger
from tests.factories import national_code
from tests.notifier.conftest import TOKEN
from tests.notifier.test_dispatch import _booked

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.notifier.conftest import World

NOTICES = 6  # broadcasts to one chat, paced at one a second after the first


async def _until(check: Callable[[], object], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("it never happened")


async def test_a_code_goes_while_a_chat_s_notices_wait_their_turn(world: World) -> None:
    world.chat.create_user(5020, "بیمار")
    async with world.env.uow() as uow:
        await _booked(uow, chat_user=5020)
        staff = Actor.staff(1, [Role.BROADCASTER])
        for n in range(NOTICES):
            draft, _ = await draft_broadcast(uow, staff, f"اطلاعیهٔ شمارهٔ {n}", Audience("future"))
            await send_broadcast(uow, staff, draft.id)
        await uow.commit()
    paced = SendLimits(per_second=1000, per_chat=1, chat_burst=1)
    ledger = DbLedger(world.env.uow, "telegram:654321", Bucket(1000, 1000))
    stop = asyncio.Event()
    async with Bot(TOKEN, base_url=world.chat.base_url) as bot:
        channels = Channels(
            chat={Platform.TELEGRAM: ChatChannel("telegram", bot, SendBudget(paced, ledger))},
            sms=SmsChannel(world.sms_provider("kavenegar")),
        )
        # The lane would look only every 30 s: the code queued here wakes it at once.
        worker = Worker(
            world.env.uow, channels, Department(), idle_seconds=0.01, urgent_every=30.0
        )
        running = asyncio.create_task(worker.run(stop))
        try:

            def told() -> list[object]:
                return [m for m in world.chat.messages_to(5020) if m.from_bot]

            await _until(lambda: len(told()) >= 1)  # the batch is under way, paced
            async with world.env.uow() as uow:
                asker = Asker.of_chat(ChatUser(Platform.TELEGRAM, 7777))
                await send_code(uow, asker, "self", national_code(40), mobile_if_new="09351110040")
                await uow.commit()
            await _until(lambda: world.sms.inbox("09351110040"))
            # The code arrived while the chat's notices were still going out one a second.
            assert len(told()) < NOTICES + 1
            await _until(lambda: len(told()) == NOTICES + 1)  # and those all went too
        finally:
            stop.set()
            await running
