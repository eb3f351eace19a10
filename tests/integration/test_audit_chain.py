"""The audit log is append-only and hash-chained (issue 15, part 4): once sealed, an entry
changed, deleted or slipped in behind the seal is found by ``verify``; the database itself
refuses to change or delete a row once migrated; CLI actions name the operator."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from clinic import audit, audit_chain, migrate
from clinic.actors import Actor
from clinic.clock import FrozenClock
from clinic.db import make_engine, make_sessionmaker
from clinic.models import AuditEntry, AuditSeal
from clinic.policy import Policy
from clinic.uow import UnitOfWork
from tests.conftest import START
from tests.factories import RECEPTION
from tests.integration.test_migrations import database_url  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv


async def _entries(env: ClinicEnv, n: int) -> None:
    async with env.uow() as uow:
        for i in range(n):
            await audit.record(uow, RECEPTION, "booking.check_in", "booking", i + 1)
        await uow.commit()


async def _seal(env: ClinicEnv) -> int:
    async with env.uow() as uow:
        done = await audit_chain.seal(uow)
        await uow.commit()
        return done


async def _verify(env: ClinicEnv) -> audit_chain.Verdict:
    async with env.uow() as uow:
        return await audit_chain.verify(uow)


async def test_a_sealed_log_verifies_and_each_kind_of_tampering_shows(env: ClinicEnv) -> None:
    await _entries(env, 5)
    assert await _seal(env) == 0  # not settled yet: a lower id may still be committing
    env.clock.advance(minutes=2)
    assert await _seal(env) == 5
    verdict = await _verify(env)
    assert (verdict.intact, verdict.sealed, verdict.unsealed) == (True, 5, 0)
    async with env.uow() as uow:  # an entry's action rewritten; another deleted
        await uow.session.execute(
            update(AuditEntry).where(AuditEntry.id == 2).values(action="booking.view")
        )
        await uow.session.execute(delete(AuditEntry).where(AuditEntry.id == 4))
        await uow.commit()
    verdict = await _verify(env)
    assert (verdict.changed, verdict.missing, verdict.intact) == ([2], [4], False)


async def test_a_removed_seal_and_an_entry_slipped_in_behind_show(env: ClinicEnv) -> None:
    await _entries(env, 4)
    env.clock.advance(minutes=2)
    await _seal(env)
    async with env.uow() as uow:
        await uow.session.execute(delete(AuditSeal).where(AuditSeal.entry_id == 2))
        await uow.session.execute(
            insert(AuditEntry).values(
                id=100, actor_kind="staff", actor_id=2, action="x", entity="booking",
                entity_id=1, details={}, at=uow.clock.now() - timedelta(hours=1),
            )
        )  # fmt: skip
        await uow.session.execute(delete(AuditSeal).where(AuditSeal.entry_id == 4))
        await uow.commit()
    verdict = await _verify(env)
    assert verdict.broken == [3]  # 3's seal follows one that is no longer there
    assert verdict.unsealed == 3  # 2 and 4 lost their seals; 100 never had one
    assert verdict.slipped_in == [2]  # behind the last seal (3); 4 and 100 are after it
    assert not verdict.intact


async def test_cli_actions_name_their_operator(env: ClinicEnv) -> None:
    token = audit.OPERATOR.set("maryam")
    try:
        async with env.uow() as uow:
            await audit.record(uow, Actor.system(), "outbound.retry", "outbound_event", 7)
            await audit.record(uow, RECEPTION, "booking.check_in", "booking", 1)
            await uow.commit()
            entries = list(
                await uow.session.scalars(select(AuditEntry.details).order_by(AuditEntry.id))
            )
    finally:
        audit.OPERATOR.reset(token)
    assert entries == [{"operator": "maryam"}, {}]  # staff act under their own name


async def test_the_migrated_database_refuses_to_change_or_delete_an_entry(
    database_url: str,  # noqa: F811
) -> None:
    await migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        uow = UnitOfWork(make_sessionmaker(engine), FrozenClock(START), Policy())
        async with uow:
            await audit.record(uow, RECEPTION, "booking.check_in", "booking", 1)
            await uow.commit()
        for statement in (
            update(AuditEntry).values(action="booking.view"),
            delete(AuditEntry),
        ):
            async with uow:
                with pytest.raises(DBAPIError, match="append-only"):
                    await uow.session.execute(statement)
    finally:
        await engine.dispose()
