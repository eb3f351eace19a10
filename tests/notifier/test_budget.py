"""The send budget: replies go at once, background sends wait in priority order, one chat is
paced without holding up the others, and "retry after" is honoured by everyone."""

from __future__ import annotations

import asyncio

from notifier.budget import MemoryLedger, Priority, SendBudget, SendLimits


def _drained(per_second: float) -> SendBudget:
    """A budget whose overall bucket has just been spent to the last token."""
    budget = SendBudget(SendLimits(per_second=per_second))
    budget.ledger.note(int(per_second))
    return budget


async def test_background_sends_go_in_priority_order() -> None:
    budget = _drained(40)
    done: list[Priority] = []

    async def send(chat: int, priority: Priority) -> None:
        await budget.send(chat, priority)
        done.append(priority)

    # Queued lowest first: the order they are let through is by priority, not arrival.
    order = [Priority.BULK] * 3 + [Priority.NOTICE] * 3 + [Priority.URGENT] * 3
    await asyncio.gather(*(send(100 + n, p) for n, p in enumerate(order)))
    assert done == sorted(order)


class _SlowLedger(MemoryLedger):
    """A ledger that answers only when told to, as the database does after a round trip."""

    def __init__(self) -> None:
        super().__init__(rate=1000, capacity=1000)
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def take(self, keep: float) -> float:
        self.asked.set()
        await self.answer.wait()
        return await super().take(keep)


async def test_a_send_arriving_while_the_ledger_is_asked_is_not_lost() -> None:
    ledger = _SlowLedger()
    budget = SendBudget(SendLimits(per_second=1000, per_chat=0), ledger)
    broadcast = asyncio.create_task(budget.send(1, Priority.BULK))
    await asyncio.wait_for(ledger.asked.wait(), 5)
    # A confirmation arrives while the broadcast's token is being taken: it heads the queue.
    confirmation = asyncio.create_task(budget.send(2, Priority.NOTICE))
    await asyncio.sleep(0)
    ledger.answer.set()
    await asyncio.wait_for(asyncio.gather(broadcast, confirmation), 5)
    assert broadcast.done() and confirmation.done()


async def test_replies_never_wait_and_background_sends_yield_to_them() -> None:
    budget = _drained(20)
    notice = asyncio.create_task(budget.send(1, Priority.NOTICE))
    await asyncio.sleep(0)
    for chat in range(200, 230):  # thirty replies while the bucket is empty
        await budget.reply(chat)
    assert not notice.done()  # the replies' debt is repaid before the notice goes
    await asyncio.wait_for(notice, 10)


async def test_one_chat_is_paced_and_the_others_are_not_held_up() -> None:
    budget = SendBudget(SendLimits(per_second=1000, per_chat=4, chat_burst=2))
    done: list[int] = []

    async def send(chat: int) -> None:
        await budget.send(chat, Priority.NOTICE)
        done.append(chat)

    busy = [asyncio.create_task(send(1)) for _ in range(4)]
    await asyncio.sleep(0.05)
    await send(2)
    assert done == [1, 1, 2]  # the burst of two, then the other chat at once
    await asyncio.gather(*busy)
    assert done == [1, 1, 2, 1, 1]


async def test_retry_after_holds_that_chat_and_the_background_not_other_replies() -> None:
    budget = SendBudget(SendLimits(per_second=1000, per_chat=0))
    budget.pause(0.3, chat_id=5)
    done: list[str] = []

    async def reply(chat: int) -> None:
        await budget.reply(chat)
        done.append(f"reply {chat}")

    async def notice(chat: int) -> None:
        await budget.send(chat, Priority.URGENT)
        done.append(f"notice {chat}")

    await asyncio.gather(reply(5), notice(6), reply(7))
    assert done[0] == "reply 7"  # another chat's reply is not held
    assert set(done[1:]) == {"reply 5", "notice 6"}  # both waited for the pause


async def test_a_send_cancelled_while_waiting_does_not_block_the_queue() -> None:
    budget = _drained(20)
    stuck = asyncio.create_task(budget.send(1, Priority.URGENT))
    await asyncio.sleep(0)
    stuck.cancel()
    await asyncio.wait_for(budget.send(2, Priority.BULK), 10)
    assert stuck.cancelled()
