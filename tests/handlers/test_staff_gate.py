"""Staff mode at the gate, the quick way (``tests.handlers.offline``): a role is read at each
update, so one removed mid-way stops working at once; a press whose arguments are forged never
reaches a step; a typed step waits in the staff member's typed state (``bot.drafts``) until it
is answered or cancelled.

These were tried only over the sandbox's HTTP before (``tests/bot/test_staff_safety.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.drafts import CLOSURE, STAFF_INPUT
from bot.handlers.common import STALE
from bot.staff import admin, menu, reception
from bot.staff.common import CANCELLED
from clinic.actors import Actor
from clinic.models import AuditEntry, Broadcast, Closure, Exam, OutboxMessage, Referral
from clinic.referrals import ReferralRequest, screening_for, submit_referral
from clinic.staff import set_roles
from tests.factories import add_patient
from tests.handlers.offline import OfflineBot, OfflineChat, answers, shown
from tests.handlers.staff_chat import member

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import ClinicEnv

CLERK, ADMIN = 8401, 8402
REASON = "نسخه مخدوش است"


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No test here may end in an error logged (the apology's cause)."""
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def _roles(env: ClinicEnv, staff_id: int, *names: str) -> None:
    async with env.uow() as uow:
        await set_roles(uow, Actor.system(), staff_id, names)
        await uow.commit()


async def _submitted(env: ClinicEnv) -> int:
    """An MRI referral by e-prescription, waiting for review."""
    async with env.uow() as uow:
        exam = await uow.session.scalar(select(Exam).where(Exam.code == "MRI-BRAIN"))
        assert exam is not None
        pid = await add_patient(uow, 1)
        questions = await screening_for(uow, exam.id, pid)
        answers = {q.code: q.blocking_answer is False for q in questions}
        request = ReferralRequest(pid, exam.id, "tamin", answers, tracking_code="987654321")
        referral = await submit_referral(uow, Actor.patient(pid), request)
        await uow.commit()
    return referral.id


async def _untouched(env: ClinicEnv, referral_id: int) -> None:
    async with env.uow() as uow:
        referral = await uow.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "submitted"
        for model in (Closure, Broadcast, OutboxMessage):
            assert await uow.session.scalar(select(func.count(model.id))) == 0
        staff_actions = await uow.session.scalar(  # opening the card was a read, no more
            select(func.count(AuditEntry.id)).where(
                AuditEntry.actor_kind == "staff", AuditEntry.action.not_like("%.read")
            )
        )
        assert staff_actions == 0


def _state(bot: OfflineBot, chat: OfflineChat) -> dict[str, object]:
    """What the bot keeps for this person between their messages."""
    return dict(bot.application.user_data.get(chat.user_id) or {})


async def test_a_role_removed_midway_stops_working_at_once(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    referral = await _submitted(sqlite_env)
    staff_id = await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    texts = shown(await clerk.press(f"srv:{referral}"))
    assert texts and texts[-1].startswith(clerk._(reception.REFERRAL).split("{")[0])

    await _roles(sqlite_env, staff_id, "broadcaster")
    calls = await clerk.press(f"srx:{referral}")
    assert (answers(calls), shown(calls)) == ([clerk._(STALE)], [])  # as if never offered
    await _untouched(sqlite_env, referral)

    await _roles(sqlite_env, staff_id, "reception")
    asked = await clerk.press(f"srxt:{referral}")
    assert shown(asked) == [clerk._(reception.ASK_REASON)]
    assert _state(bot, clerk)[STAFF_INPUT.key] == {"kind": "reject", "referral": referral}
    await _roles(sqlite_env, staff_id)  # no roles at all: no longer staff
    assert shown(await clerk.say(REASON)) == [clerk._("Please send /start to begin.")]
    await _roles(sqlite_env, staff_id, "reception")  # back, but the typed step went with it
    assert shown(await clerk.say(REASON)) == [clerk._("Please send /start to begin.")]
    assert STAFF_INPUT.key not in _state(bot, clerk)
    await _untouched(sqlite_env, referral)


async def test_cancel_drops_a_typed_step(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    referral = await _submitted(sqlite_env)
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    await clerk.press(f"srxt:{referral}")
    assert shown(await clerk.say("/cancel")) == [clerk._(CANCELLED)]
    assert shown(await clerk.say(REASON)) == [clerk._("Please send /start to begin.")]
    await _untouched(sqlite_env, referral)


async def test_reception_presses_with_forged_arguments_never_reach_a_step(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    referral = await _submitted(sqlite_env)
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    r = referral
    forged = [
        "srv", "srv:abc", "srv:99999999999", f"srv:{r}:1", f"srok:{r}.0", "srok:-1",
        f"srxr:{r}", f"srxr:{r}:99999", f"srxr:{r}:x", "sci:99999999999", "sdl", "sdl:x",
        f"srxt:{r}:{r}", "sevx:", "sref:1",
    ]  # fmt: skip
    for data in forged:
        calls = await clerk.press(data)
        assert (data, answers(calls), shown(calls)) == (data, [clerk._(STALE)], [])
    # Well formed, but no button offers it: answered, and nothing done.
    calls = await clerk.press(f"srxr:{r}:7")
    assert (answers(calls), shown(calls)) == ([None], [])
    await _untouched(sqlite_env, referral)
    assert STAFF_INPUT.key not in _state(bot, clerk)


async def test_reception_pressing_admin_broadcaster_or_reporting_buttons_meets_the_catch_all(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    referral = await _submitted(sqlite_env)
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    assert clerk._(menu.MENU) in shown(await clerk.press("smenu"))  # their own mode opens
    for data in ["scl", "sclok", "scld:1", "scc:1", "sdo", "sadd:a", "sadn:a", "sahh:1",
                 "sbc", "sbaf", "sbdv:1", "sbs:1", "sbp:1", "srpf", "srpc"]:  # fmt: skip
        calls = await clerk.press(data)
        assert (data, answers(calls), shown(calls)) == (data, [clerk._(STALE)], [])
    assert STAFF_INPUT.key not in _state(bot, clerk)
    await _untouched(sqlite_env, referral)


async def test_a_closure_is_previewed_in_its_draft_then_closed_once(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    await member(sqlite_env, ADMIN, "admin")
    chief = bot.chat(ADMIN)
    nothing = chief._(admin.NOTHING)
    assert nothing in shown(await chief.press("sclok"))  # no preview yet: a stale Yes
    assert shown(await chief.press("scld:0")) == [chief._(admin.ASK_DAYS)]
    assert shown(await chief.say("۱۴۰۵/۰۹/۲۰ - ۱۴۰۵/۰۹/۲۱")) == [chief._(admin.ASK_WHY)]
    assert _state(bot, chief)[STAFF_INPUT.key] == {
        "kind": "close_why",
        "device": 0,
        "first": "2026-12-11",
        "last": "2026-12-12",
    }
    [preview] = shown(await chief.say("آلودگی هوا"))
    assert "آلودگی هوا" in preview and chief._(admin.WHOLE) in preview
    assert _state(bot, chief)[CLOSURE.key] == {
        "device": 0,
        "first": "2026-12-11",
        "last": "2026-12-12",
        "reason": "آلودگی هوا",
    }
    [closed] = shown(await chief.press("sclok"))
    assert closed.startswith(chief._(admin.CLOSED).split("{")[0])
    assert nothing in shown(await chief.press("sclok"))  # a second tap closes nothing more
    assert CLOSURE.key not in _state(bot, chief)
    async with sqlite_env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Closure.id))) == 1
