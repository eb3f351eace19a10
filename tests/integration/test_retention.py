"""Retention (issue 15, part 2): drafts, abandoned uploads, closed referrals' prescriptions,
refused hospital messages and the texts of ended notices go when their time is up, and what is
still in use stays."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from clinic import retention
from clinic.files import FileStore
from clinic.hospital_inbox import keep_rejected
from clinic.models import (
    ChatUserData,
    OutboxMessage,
    OutboxStatus,
    Platform,
    Referral,
    RejectedMessage,
)
from clinic.retention import RetentionRules
from tests.factories import add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import ClinicEnv


async def test_each_kind_of_data_goes_when_its_time_is_up(env: ClinicEnv, tmp_path: Path) -> None:
    files = FileStore(tmp_path / "files")
    now = env.clock.now()
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 1)
        closed = await approved_referral(uow, patient, dept.ct_brain)
        open_ = await approved_referral(uow, await add_patient(uow, 2), dept.ct_brain)
        kept_ref = await files.save(b"%PDF kept", "application/pdf", now)
        closed_ref = await files.save(b"%PDF closed", "application/pdf", now)
        abandoned = await files.save(b"%PDF abandoned", "application/pdf", now)
        fresh = await files.save(b"%PDF just sent", "application/pdf", now)
        await uow.session.execute(
            update(Referral).where(Referral.id == open_).values(file_ref=kept_ref)
        )
        await uow.session.execute(
            update(Referral)
            .where(Referral.id == closed)
            .values(file_ref=closed_ref, status="rejected", reviewed_at=now - timedelta(days=100))
        )
        await uow.session.execute(
            insert(ChatUserData),
            [
                {"platform": Platform.TELEGRAM, "user_id": 1, "data": {"reg": {"n": "x"}},
                 "updated_at": now - timedelta(hours=72)},
                {"platform": Platform.TELEGRAM, "user_id": 2, "data": {"reg": {"n": "y"}},
                 "updated_at": now - timedelta(hours=1)},
            ],
        )  # fmt: skip
        await keep_rejected(uow, "hl7", "unparseable", "PID|||0012345679||رضایی^علی")
        await uow.session.execute(
            update(RejectedMessage).values(received_at=now - timedelta(days=40))
        )
        await uow.commit()
        # Kept masked from the start: the structure for IT, not the patient.
        assert list(await uow.session.scalars(select(RejectedMessage.body))) == [
            "PID|||***||***^***"
        ]
    day_old = (now - timedelta(hours=30)).timestamp()
    for ref in (kept_ref, closed_ref, abandoned):
        os.utime(files.root / ref, (day_old, day_old))
    async with env.uow() as uow:  # a notice delivered long ago keeps its row, not its words
        old = now - timedelta(days=100)
        await uow.session.execute(
            insert(OutboxMessage).values(
                recipient_kind="patient", recipient_id=patient, kind="referral_rejected",
                params={"reason": "تاریخ نسخه خوانا نیست"}, due_at=old, urgent=False,
                dedup_key="old-notice", status=OutboxStatus.SENT, attempts=1,
                next_attempt_at=old, created_at=old,
            )
        )  # fmt: skip
        await uow.commit()
    async with env.uow() as uow:
        report = await retention.run(uow, files, RetentionRules())
        await uow.commit()
    assert (report.drafts, report.uploads, report.prescriptions, report.refused) == (1, 1, 1, 1)
    assert report.notices == 1
    assert (files.root / kept_ref).exists() and (files.root / fresh).exists()
    assert not (files.root / abandoned).exists() and not (files.root / closed_ref).exists()
    async with env.uow() as uow:
        refs = dict(
            (await uow.session.execute(select(Referral.id, Referral.file_ref))).tuples().all()
        )
        users = list(await uow.session.scalars(select(ChatUserData.user_id)))
        old_params = await uow.session.scalars(
            select(OutboxMessage.params).where(OutboxMessage.dedup_key == "old-notice")
        )
        params = [dict(p) for p in old_params]
        refused = list(await uow.session.scalars(select(RejectedMessage.id)))
    assert refs[closed] is None and refs[open_] == kept_ref
    assert users == [2] and params == [{}] and refused == []
    async with env.uow() as uow:  # a second run finds nothing more
        again = await retention.run(uow, files, RetentionRules())
    assert again == retention.RetentionReport(0, 0, 0, 0, 0, 0)
