"""Two workers claiming one queue on PostgreSQL: every message sent, none twice."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.models import ActorKind, OutboxMessage, Platform
from clinic.outbox import Notice, enqueue
from clinic.patients import link_chat_account
from notifier.dispatch import Worker
from tests.factories import add_patient, build_department

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv
    from tests.notifier.conftest import World

PATIENTS = 40
NOTICES_EACH = 3


# Row locks (FOR UPDATE SKIP LOCKED) are under test: PostgreSQL only (SQLite runs one worker).
@pytest.mark.pg
@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
async def test_two_dispatchers_never_send_one_message_twice(world: World, env: ClinicEnv) -> None:
    assert env.dialect == "postgresql"
    async with env.uow() as uow:
        await build_department(uow)
        for n in range(PATIENTS):
            patient = await add_patient(uow, n)
            world.chat.create_user(6000 + n, "بیمار")
            await link_chat_account(uow, patient, Platform.TELEGRAM, 6000 + n, 6000 + n)
            for k in range(NOTICES_EACH):
                await enqueue(
                    uow,
                    recipient_kind=ActorKind.PATIENT,
                    recipient_id=patient,
                    kind=Notice.REFERRAL_RECEIVED,
                    dedup_key=f"test:{patient}:{k}",
                    params={"referral_id": k},
                )
        await uow.commit()
    first = world.worker
    second = Worker(env.uow, first.channels, first.department, batch=7, concurrency=3)
    first.batch, first.concurrency = 7, 3

    async def drain(worker: Worker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(drain(first), drain(second))
    async with env.uow() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
    assert len(rows) == PATIENTS * NOTICES_EACH
    assert {r.status for r in rows} == {"sent"}
    for n in range(PATIENTS):
        received = [m for m in world.chat.messages_to(6000 + n) if m.from_bot]
        assert len(received) == NOTICES_EACH
