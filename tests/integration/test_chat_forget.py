"""Whoever deletes chat users' drafts or conversation states outside the bot (retention, an
erasure) notes those users for the running bots, in the same transaction; a note goes after
a day."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from clinic import retention
from clinic.actors import Actor
from clinic.files import FileStore
from clinic.models import ChatConversation, ChatForget, ChatUserData, Platform
from clinic.patient_data import erase_patient
from clinic.patients import link_chat_account
from clinic.retention import RetentionRules
from tests.factories import add_patient, national_code

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import ClinicEnv

TG, BALE = Platform.TELEGRAM, Platform.BALE


async def _notes(env: ClinicEnv) -> list[tuple[str, int]]:
    async with env.uow() as uow:
        rows = await uow.session.execute(
            select(ChatForget.platform, ChatForget.user_id).order_by(ChatForget.id)
        )
        return [(str(p), u) for p, u in rows.tuples()]


async def test_retention_notes_whose_drafts_and_states_it_deleted(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    now = env.clock.now()
    old, new = now - timedelta(hours=72), now - timedelta(hours=1)
    async with env.uow() as uow:
        await uow.session.execute(
            insert(ChatUserData),
            [
                {"platform": TG, "user_id": 11, "data": {"reg": {}}, "updated_at": old},
                {"platform": BALE, "user_id": 11, "data": {"reg": {}}, "updated_at": old},
                {"platform": TG, "user_id": 12, "data": {"reg": {}}, "updated_at": new},
            ],
        )
        # python-telegram-bot's keys: (chat, user), or the user alone; a state of a user
        # whose draft went with it is noted once.
        await uow.session.execute(
            insert(ChatConversation),
            [
                {"platform": TG, "name": "registration", "key": json.dumps([11, 11]),
                 "state": 1, "updated_at": old},
                {"platform": TG, "name": "request", "key": json.dumps([-100, 13]),
                 "state": 2, "updated_at": old},
                {"platform": TG, "name": "family", "key": json.dumps([14]),
                 "state": 2, "updated_at": old},
                {"platform": TG, "name": "request", "key": json.dumps([12, 12]),
                 "state": 2, "updated_at": new},
            ],
        )  # fmt: skip
        await uow.commit()
    async with env.uow() as uow:  # not committed: nothing was deleted, nobody is noted
        await retention.run(uow, files, RetentionRules())
    assert await _notes(env) == []
    async with env.uow() as uow:
        report = await retention.run(uow, files, RetentionRules())
        await uow.commit()
    assert (report.drafts, report.conversations) == (2, 3)
    assert sorted(await _notes(env)) == [("bale", 11), ("telegram", 11), ("telegram", 13),
                                         ("telegram", 14)]  # fmt: skip

    env.clock.advance(hours=48)  # the notes are two days old: every bot has long seen them
    async with env.uow() as uow:
        await retention.run(uow, files, RetentionRules())
        await uow.commit()
    # User 12's draft and state, 49 hours old now, go in that run, and are noted.
    assert await _notes(env) == [("telegram", 12)]


async def test_an_erasure_notes_the_patients_own_chat_accounts(
    env: ClinicEnv, tmp_path: Path
) -> None:
    async with env.uow() as uow:
        pid = await add_patient(uow, 1)
        other = await add_patient(uow, 2)
        await link_chat_account(uow, pid, TG, 7001, 7001)
        await link_chat_account(uow, pid, BALE, 8001, 8001)
        await link_chat_account(uow, other, TG, 7002, 7002)
        await link_chat_account(uow, pid, TG, 7002, 7002, is_self=False)  # acts for them
        await uow.commit()
    async with env.uow() as uow:
        summary = await erase_patient(
            uow, Actor.system(), national_code(1), files=FileStore(tmp_path / "files"),
            cancel_upcoming=False,
        )  # fmt: skip
        await uow.commit()
    assert summary.erased
    # Their own accounts only: the family member's account is another person's.
    assert sorted(await _notes(env)) == [("bale", 8001), ("telegram", 7001)]
