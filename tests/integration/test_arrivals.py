"""Updates arriving together: once-only records and identities in one transaction, each update
answered as it would be alone."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from bot.arrivals import Arrivals
from clinic import chat_state
from clinic.accounts import ChatIdentity, chat_identities, chat_identity
from clinic.models import Platform, Role
from clinic.patients import link_chat_account
from clinic.staff import add_health_house, add_health_worker, add_staff
from tests.factories import ADMIN, add_patient

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

PATIENT, STAFF, WORKER, STRANGER = 901, 902, 903, 904


async def _people(env: ClinicEnv) -> tuple[int, int, int]:
    async with env.uow() as uow:
        patient = await add_patient(uow, 1)
        await link_chat_account(uow, patient, Platform.TELEGRAM, PATIENT, PATIENT)
        member = await add_staff(
            uow, ADMIN, full_name="سارا نوری", roles=["reception"], telegram_user_id=STAFF
        )
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم", mobile="09150000009"
        )
        worker.telegram_user_id = WORKER  # as linking the account sets it
        await uow.commit()
    return patient, member.id, worker.id


async def test_identities_of_several_accounts_in_one_read_are_each_their_own(
    env: ClinicEnv,
) -> None:
    patient, staff, worker = await _people(env)
    async with env.uow() as uow:
        together = await chat_identities(
            uow, Platform.TELEGRAM, [PATIENT, STAFF, WORKER, STRANGER]
        )
        alone = {u: await chat_identity(uow, Platform.TELEGRAM, u) for u in together}
    assert together == alone
    assert [p.id for p in together[PATIENT].patients] == [patient]
    assert together[PATIENT].staff is None and together[PATIENT].worker is None
    staff_actor = together[STAFF].staff
    assert staff_actor is not None and staff_actor.id == staff
    assert Role.RECEPTION in staff_actor.roles and together[STAFF].patients == ()
    worker_actor = together[WORKER].worker
    assert worker_actor is not None and worker_actor.id == worker
    assert together[STRANGER] == ChatIdentity()
    async with env.uow() as uow:  # the same accounts on Bale are nobody yet
        assert (await chat_identities(uow, Platform.BALE, [PATIENT]))[PATIENT] == ChatIdentity()


async def test_updates_recorded_together_are_new_once(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        assert await chat_state.first_times(uow, Platform.TELEGRAM, [5, 6, 6, 7]) == {5, 6, 7}
        await uow.commit()
    async with env.uow() as uow:
        assert await chat_state.first_times(uow, Platform.TELEGRAM, [7, 8]) == {8}
        assert await chat_state.first_times(uow, Platform.BALE, [7]) == {7}  # another platform's 7
        assert await chat_state.first_time(uow, Platform.TELEGRAM, 8) is False
        await uow.commit()


async def test_arrivals_at_once_share_a_transaction_and_each_gets_its_answer(
    env: ClinicEnv,
) -> None:
    patient, staff, _ = await _people(env)
    async with env.uow() as uow:
        await chat_state.first_times(uow, Platform.TELEGRAM, [100])  # processed before a restart
        await uow.commit()
    opened: list[UnitOfWork] = []

    def counted() -> UnitOfWork:
        opened.append(env.uow())
        return opened[-1]

    arrivals = Arrivals()
    calls: list[tuple[int, int | None]] = [
        (100, PATIENT),
        (101, PATIENT),
        (102, STAFF),
        (103, STRANGER),
        (102, STAFF),
    ]
    calls += [(200 + n, None) for n in range(15)]  # a group's updates: no identity wanted
    answers = await asyncio.gather(
        *(arrivals.arrive(counted, Platform.TELEGRAM, u, who, lambda: False) for u, who in calls)
    )
    assert len(opened) <= 2  # the first arrival's round, then everyone who queued behind it
    fresh = [new for new, _ in answers]
    assert fresh[:5] == [False, True, True, True, False]  # re-deliveries dropped, once each
    assert all(fresh[5:])
    assert [p.id for p in answers[1][1].patients] == [patient]  # type: ignore[union-attr]
    staff_identity = answers[2][1]
    assert staff_identity is not None and staff_identity.staff is not None
    assert staff_identity.staff.id == staff
    assert answers[3][1] == ChatIdentity()
    assert all(identity is None for _, identity in answers[5:])


async def test_a_failed_round_fails_its_updates_and_the_next_round_works(
    env: ClinicEnv,
) -> None:
    arrivals = Arrivals()

    def broken() -> UnitOfWork:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        await arrivals.arrive(broken, Platform.TELEGRAM, 1, STRANGER, lambda: False)
    new, identity = await arrivals.arrive(env.uow, Platform.TELEGRAM, 1, STRANGER, lambda: False)
    assert new and identity == ChatIdentity()
