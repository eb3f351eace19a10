"""The send budget kept in the database: two processes' ledgers draw on one bucket, on SQLite
and PostgreSQL alike, and a take is never granted twice."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from clinic.send_ledger import Bucket
from notifier.ledger import DbLedger

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

NOW = 1_800_000_000.0
BUCKET = Bucket(rate=1.0, capacity=5.0)


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _pair(env: ClinicEnv, clock: Wall) -> tuple[DbLedger, DbLedger]:
    """Two ledgers of one bot, as ``radyar run`` and a ``radyar worker`` would hold them."""
    return (
        DbLedger(env.uow, "telegram:42", BUCKET, clock),
        DbLedger(env.uow, "telegram:42", BUCKET, clock),
    )


async def test_two_ledgers_share_one_bucket_and_never_both_take_the_last(env: ClinicEnv) -> None:
    clock = Wall()
    first, second = _pair(env, clock)
    await first.take(0)  # makes the row (full), then takes: one of five gone
    waits = await asyncio.gather(*(ledger.take(0) for ledger in (first, second) * 6))
    assert sum(1 for w in waits if w == 0) == 4
    assert all(w > 0 for w in waits if w != 0)
    other_bot = DbLedger(env.uow, "bale:42", BUCKET, clock)
    assert await other_bot.take(0) == 0  # another token, another bucket


async def test_replies_charged_by_one_process_make_the_other_wait(env: ClinicEnv) -> None:
    clock = Wall()
    run, worker = _pair(env, clock)
    run.note(4)
    await run.flush()
    assert await worker.take(0) == 0
    wait = await worker.take(0)
    assert wait > 0  # the fifth token went on the replies
    clock.now += wait
    assert await worker.take(0) == 0  # refilled at the bucket's rate


async def test_a_share_is_kept_back_for_higher_priorities(env: ClinicEnv) -> None:
    clock = Wall()
    worker, _ = _pair(env, clock)
    taken = [await worker.take(2) for _ in range(4)]
    assert taken[:3] == [0, 0, 0] and taken[3] > 0  # two of five stay for keep=0
    assert await worker.take(0) == 0


async def test_a_pause_asked_in_one_process_holds_the_other(env: ClinicEnv) -> None:
    clock = Wall()
    run, worker = _pair(env, clock)
    run.pause(NOW + 12)
    await run.flush()
    assert 11.9 < await worker.take(0) <= 12
    clock.now += 12
    assert await worker.take(0) == 0
