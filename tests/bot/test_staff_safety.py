"""Staff mode is invisible to others, and a role removed mid-way stops working at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.handlers.common import STALE
from bot.staff import reception
from bot.staff.common import CANCELLED, INPUT
from clinic.actors import Actor
from clinic.models import Broadcast, Closure, OutboxMessage, Referral
from clinic.staff import set_roles
from tests.bot.flows import register
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.test_staff_reception import staff_chat, submitted_referral

if TYPE_CHECKING:
    from collections.abc import Iterator

FORGED = ["smenu", "sref", "srv:1", "srok:1", "srxr:1:0", "sci:1", "sns:1", "scxok:1",
          "scl", "sclok", "scc:1", "sadd:a", "sadn:a", "sbs:1", "sbp:1", "srpf"]  # fmt: skip


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _answer(harness: Harness, chat: Chat, data: str) -> tuple[str | None, int]:
    """What the bot answered to a forged press, and how many messages it sent or edited."""
    before = [(m.message_id, m.text) for m in chat.bot_messages()]
    query = chat.fire_forge(data, chat.last().message_id)
    await harness.settle()
    after = [(m.message_id, m.text) for m in chat.bot_messages()]
    answer = harness.sandbox.callback_answer(query) or {}
    return answer.get("text"), len(set(after) - set(before))


async def _untouched(harness: Harness, referral_id: int) -> None:
    async with harness.env.uow() as uow:
        referral = await uow.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "submitted"
        assert await uow.session.scalar(select(func.count(Closure.id))) == 0
        assert await uow.session.scalar(select(func.count(Broadcast.id))) == 0
        notices = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind != "identity_code"  # the patient's registration code: not ours
        )
        assert await uow.session.scalar(notices) == 0


async def test_staff_command_from_others_looks_like_any_unknown_command(harness: Harness) -> None:
    stranger = harness.user(7301)
    await stranger.command("staff")
    await stranger.command("nosuchcommand")
    assert (
        stranger.texts()[-2] == stranger.texts()[-1] == stranger._("Please send /start to begin.")
    )
    patient = harness.user(7302)
    await register(patient, 40)
    await patient.command("staff")
    staff_reply = patient.last()
    await patient.command("nosuchcommand")
    assert staff_reply.text == patient.last_text()
    assert staff_reply.markup == patient.last().markup
    assert staff_reply.text == patient._(
        "I did not understand that. Please use the buttons below, or send /cancel to start over."
    )


async def test_forged_staff_buttons_do_nothing_for_others(harness: Harness) -> None:
    referral_id = await submitted_referral(harness, 1)
    patient = harness.user(7303)
    await register(patient, 41)
    unknown = await _answer(harness, patient, "zzz:1")
    assert unknown == (patient._(STALE), 0)
    for data in [*FORGED, f"srok:{referral_id}", f"srxr:{referral_id}:0"]:
        assert await _answer(harness, patient, data) == unknown, data
    # A receptionist pressing admin or broadcaster buttons gets the same.
    clerk, _ = await staff_chat(harness, 7304, "reception")
    await clerk.command("staff")
    for data in ["scl", "sclok", "scld:1", "sadd:a", "sbs:1", "sbaf", "srpf"]:
        assert await _answer(harness, clerk, data) == unknown, data
    await _untouched(harness, referral_id)


async def test_a_role_removed_mid_conversation_stops_working_at_once(harness: Harness) -> None:
    referral_id = await submitted_referral(harness, 1)
    chat, staff_id = await staff_chat(harness, 7305, "reception")
    await chat.command("staff")
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    assert chat._(reception.REJECT) in chat.buttons()

    async def roles(*names: str) -> None:
        async with harness.env.uow() as uow:
            await set_roles(uow, Actor.system(), staff_id, names)
            await uow.commit()

    await roles("broadcaster")
    card = chat.last_text()
    await chat.press_msgid(reception.REJECT)
    assert chat.last_text() == card  # nothing happened
    await _untouched(harness, referral_id)

    await roles("reception")
    await chat.press_msgid(reception.REJECT)
    await chat.press_msgid(reception.TYPE_REASON)
    assert chat.last_text() == chat._(reception.ASK_REASON)
    await roles()  # no roles at all: no longer staff
    await chat.say("نسخه مخدوش است")
    assert chat.last_text() == chat._("Please send /start to begin.")
    await _untouched(harness, referral_id)

    await roles("reception")  # back, but the typed step was dropped with the role
    await chat.say("نسخه مخدوش است")
    assert chat.last_text() == chat._("Please send /start to begin.")
    await _untouched(harness, referral_id)
    assert INPUT not in (harness.application.user_data.get(chat.user_id) or {})  # type: ignore[union-attr]


async def test_cancel_drops_a_typed_step(harness: Harness) -> None:
    referral_id = await submitted_referral(harness, 1)
    chat, _ = await staff_chat(harness, 7306, "reception")
    await chat.command("staff")
    await chat.press(chat.buttons()[0])
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(reception.REJECT)
    await chat.press_msgid(reception.TYPE_REASON)
    await chat.command("cancel")
    assert chat.last_text() == chat._(CANCELLED)
    await chat.say("نسخه مخدوش است")
    assert chat.last_text() == chat._("Please send /start to begin.")
    await _untouched(harness, referral_id)
