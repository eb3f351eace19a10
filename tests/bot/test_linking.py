"""/link through the bot: tries limited and audited, the code bound to its owner's own number."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text

from bot.conversations import registration
from bot.handlers import info
from bot.health_worker import link
from bot.keyboards import NEW_REQUEST
from clinic.actors import Actor
from clinic.errors import LinkLocked, NotOwnContact, PhoneMismatch, WrongLinkCode
from clinic.link_codes import issue_link_code
from clinic.models import AuditEntry, HealthWorker, OutboxMessage, Role
from clinic.text import to_persian_digits
from tests.bot.flows import register
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.test_health_worker_booking import WORKER_MOBILE, new_worker
from tests.bot.test_staff_reception import staff_chat

if TYPE_CHECKING:
    from collections.abc import Iterator

OWN_PHONE = "98" + WORKER_MOBILE[1:]  # as Telegram gives it
# The frozen clock stands at 08:00 on Sunday 8 Azar 1405; a lockout from then lasts an hour.
UNTIL_FA = "یکشنبه ۸ آذر ۱۴۰۵ ساعت ۰۹:۰۰"


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


def _wrong(code: str, n: int) -> str:
    """The n-th wrong code (never the right one)."""
    return f"{(int(code) + 1 + n) % 10**10:010d}"


def _locked_text(chat: Chat) -> str:
    return chat._(LinkLocked.message).format(until=UNTIL_FA)


async def _failures(harness: Harness) -> list[str]:
    async with harness.env.uow() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry.details)
            .where(AuditEntry.action == "link_code.fail")
            .order_by(AuditEntry.id)
        )
        return [str(d["reason"]) for d in rows]


async def _linked(harness: Harness, worker_id: int) -> int | None:
    async with harness.env.uow() as uow:
        worker = await uow.session.get(HealthWorker, worker_id)
    assert worker is not None
    return worker.telegram_user_id


async def test_three_hundred_wrong_codes_are_refused_after_five_and_each_is_audited(
    harness: Harness,
) -> None:
    _, code = await new_worker(harness)
    attacker = harness.user(8401)
    sandbox = harness.sandbox
    for batch in range(0, 300, 25):  # sent as fast as the account can, 25 before any answer
        for n in range(batch, batch + 25):
            wrong = _wrong(code, n)
            harness.fire(partial(sandbox.send_command, 8401, "link", wrong))
        await harness.settle()
    replies = attacker.texts()
    assert len(replies) == 300
    tries_left = [attacker._(WrongLinkCode.message).format(left=to_persian_digits(str(n)))
                  for n in (4, 3, 2, 1)]  # fmt: skip
    assert replies[:4] == tries_left
    assert set(replies[4:]) == {_locked_text(attacker)}
    assert await _failures(harness) == ["wrong"] * 5 + ["locked"] * 295


async def test_while_locked_even_the_right_code_is_refused_and_after_it_it_works(
    harness: Harness,
) -> None:
    worker_id, code = await new_worker(harness)
    owner = harness.user(8402, phone=OWN_PHONE)
    for n in range(5):
        await owner.command("link", _wrong(code, n))
    assert owner.last_text() == _locked_text(owner)
    await owner.command("link", code)
    assert owner.last_text() == _locked_text(owner)
    assert await _failures(harness) == ["wrong"] * 5 + ["locked"]

    harness.env.clock.advance(hours=1, minutes=1)
    await owner.command("link", to_persian_digits(code))
    assert owner.last_text() == owner._(link.ASK_PHONE)
    markup = owner.last().markup or {}
    assert [[b.get("request_contact") for b in row] for row in markup["keyboard"]] == [[True]]
    await owner.share_contact()
    assert owner.last_text() == owner._(link.LINKED_WORKER)
    assert await _linked(harness, worker_id) == 8402


async def test_a_number_that_is_not_the_workers_is_refused(harness: Harness) -> None:
    worker_id, code = await new_worker(harness)
    chat = harness.user(8403, phone="989351112233")
    await chat.command("link", code)
    await chat.say("سلام")  # not a contact: the button again
    assert chat.last_text() == chat._(link.USE_BUTTON)
    await chat.share_contact()
    assert chat.last_text() == chat._(PhoneMismatch.message)
    assert await _linked(harness, worker_id) is None
    assert await _failures(harness) == ["phone_mismatch"]


async def test_other_accounts_with_the_right_code_are_refused_and_three_revoke_it(
    harness: Harness,
) -> None:
    _, admin_id = await staff_chat(harness, 8410, "admin")
    worker_id, _ = await new_worker(harness)
    async with harness.env.uow() as uow:
        code = await issue_link_code(uow, Actor.staff(admin_id, [Role.ADMIN]), "health_worker",
                                     worker_id)  # fmt: skip
        await uow.commit()
    first = harness.user(8411)
    await first.command("link", code)
    await first.share_contact(OWN_PHONE, own=False)  # the worker's card from the address book
    assert first.last_text() == first._(NotOwnContact.message)
    await first.share_contact()  # its own number, which is not the worker's
    assert first.last_text() == first._(PhoneMismatch.message)
    second = harness.user(8412)
    await second.command("link", code)
    await second.share_contact()
    assert second.last_text() == second._(PhoneMismatch.message)
    owner = harness.user(8413, phone=OWN_PHONE)
    await owner.command("link", code)  # three failed bindings revoked it
    assert owner.last_text() == owner._(WrongLinkCode.message).format(left="۴")
    assert await _linked(harness, worker_id) is None
    async with harness.env.uow() as uow:
        told = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "link_code_revoked",
                OutboxMessage.recipient_kind == "staff",
                OutboxMessage.recipient_id == admin_id,
            )
        )
    assert told == 1
    assert await _failures(harness) == [
        "contact_not_own",
        "phone_mismatch",
        "phone_mismatch",
        "revoked",
    ]


async def test_a_new_code_revokes_the_older_one(harness: Harness) -> None:
    worker_id, older = await new_worker(harness)
    async with harness.env.uow() as uow:
        newer = await issue_link_code(uow, Actor.system(), "health_worker", worker_id)
        await uow.commit()
    chat = harness.user(8404, phone=OWN_PHONE)
    await chat.command("link", older)
    assert chat.last_text() == chat._(WrongLinkCode.message).format(left="۴")
    await chat.command("link", newer)
    await chat.share_contact()
    assert chat.last_text() == chat._(link.LINKED_WORKER)
    assert await _failures(harness) == ["revoked"]


async def test_no_plain_code_is_kept_anywhere_and_the_step_survives_a_restart(
    harness: Harness,
) -> None:
    worker_id, code = await new_worker(harness)
    chat = harness.user(8405, phone=OWN_PHONE)
    await chat.command("link", code)
    await harness.restart()  # the code waiting for the number is kept in the database
    await chat.share_contact()
    assert chat.last_text() == chat._(link.LINKED_WORKER)
    async with harness.env.uow() as uow:
        for table in ("link_codes", "audit_log", "chat_user_data", "chat_conversations"):
            rows = (await uow.session.execute(text(f"SELECT * FROM {table}"))).all()
            assert rows or table != "link_codes"
            assert not [r for r in rows if code in str(tuple(r))], table
    assert await _linked(harness, worker_id) == 8405


async def test_start_or_cancel_leave_the_link_step(harness: Harness) -> None:
    _, code = await new_worker(harness)
    chat = harness.user(8406, phone=OWN_PHONE)
    await chat.command("link", code)
    await chat.command("cancel")
    assert chat.last_text() == chat._(info.CANCELLED_GUEST)
    await chat.command("link", code)
    await chat.command("start")  # registration now owns the contact
    await chat.share_contact()
    assert chat.last_text() == chat._(registration.ASK_NATIONAL_CODE)


async def test_a_health_worker_who_is_also_a_patient_gets_the_menu_back(harness: Harness) -> None:
    worker_id, code = await new_worker(harness)
    chat = harness.user(8407, phone=OWN_PHONE)
    await register(chat, 3)  # registered as a patient with the same number first
    await chat.command("link", code)
    await chat.share_contact()
    assert chat.last_text() == chat._(link.LINKED_WORKER)
    markup = chat.last().markup or {}
    assert chat._(NEW_REQUEST) in [b.get("text") for row in markup["keyboard"] for b in row]
    assert await _linked(harness, worker_id) == 8407
