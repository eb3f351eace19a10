"""A patient's data on their request (issue 15, part 3): the export holds everything about
them and nothing of anyone else; the erasure cancels what is open through the usual use cases,
waits for the hospital's systems, removes what only served the patient and keeps the hospital's
records without identity; both only for an admin of every site, both audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, update

from clinic import audit_chain
from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in, day_list
from clinic.erased import NAME, erased_code
from clinic.errors import InvalidNationalCode, NotAllowed, NotFound
from clinic.files import FileStore
from clinic.handover import hand_over
from clinic.jalali import TEHRAN
from clinic.models import (
    AuditEntry,
    Booking,
    ChatAccount,
    ChatConversation,
    ChatUserData,
    IdentityCheck,
    InboundSms,
    OutboundEvent,
    OutboxMessage,
    Patient,
    Platform,
    Referral,
    Relation,
    Report,
    Role,
    SmsQuestion,
    WaitlistEntry,
)
from clinic.patient_data import (
    ErasureBlocked,
    ExamInProgress,
    erase_patient,
    export_patient,
    patient_card,
)
from clinic.patients import (
    PatientDetails,
    find_by_national_code,
    link_chat_account,
    register_patient,
)
from clinic.policy import Policy
from clinic.referrals import PrescriptionFile, ReferralRequest, submit_referral
from clinic.reports import ReportEvent, report_event
from clinic.text import to_persian_digits
from clinic.waitlist import join_waitlist
from tests.factories import (
    ADMIN,
    RECEPTION,
    Department,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)

if TYPE_CHECKING:
    from pathlib import Path

    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)
PDF = b"%PDF-1.4 a paper prescription"
JPEG = b"\xff\xd8\xff\xe0jpg"
OTHER_NAME, OTHER_MOBILE = "زهرا", "09150000099"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


async def _book(uow: UnitOfWork, pid: int, referral: int, device: int, start: datetime) -> int:
    held = await hold_slot(uow, Actor.patient(pid), referral, device, start)
    return (await confirm_booking(uow, Actor.patient(pid), held.id)).id


async def _other(uow: UnitOfWork) -> int:
    details = PatientDetails(national_code(9), OTHER_MOBILE, OTHER_NAME, "کریمی", 1350, "female")
    return (await register_patient(uow, Actor.system(), details, consent=True)).id


async def _paper_referral(uow: UnitOfWork, files: FileStore, pid: int, dept: Department) -> int:
    ref = await files.save(PDF, "application/pdf", uow.clock.now())
    request = ReferralRequest(
        pid, dept.mri_knee.id, "tamin", {"pacemaker": False},
        file=PrescriptionFile(ref, "application/pdf", len(PDF)),
    )  # fmt: skip
    return (await submit_referral(uow, Actor.patient(pid), request)).id


async def _family(uow: UnitOfWork, files: FileStore, pid: int, other: int) -> None:
    """The patient's own Telegram account, with a request under way (a photo sent); the other
    patient's account acts for them."""
    photo = await files.save(JPEG, "image/jpeg", uow.clock.now())
    draft = {"exam_id": 3, "file": {"ref": photo, "content_type": "image/jpeg", "size": 7}}
    await link_chat_account(uow, pid, Platform.TELEGRAM, 7001, 7001)
    await link_chat_account(uow, other, Platform.TELEGRAM, 7002, 7002)
    shared = await link_chat_account(uow, pid, Platform.TELEGRAM, 7002, 7002, is_self=False)
    shared.relation = Relation.PARENT
    uow.session.add(
        ChatUserData(
            platform=Platform.TELEGRAM, user_id=7001, data={"request": draft},
            updated_at=uow.clock.now(),
        )
    )  # fmt: skip
    for user in (7001, 7002):  # a conversation state of each account (bot.persistence's key)
        uow.session.add(
            ChatConversation(
                platform=Platform.TELEGRAM, name="request", key=json.dumps([user, user]),
                state=2, updated_at=uow.clock.now(),
            )
        )  # fmt: skip


async def _a_done_exam(uow: UnitOfWork, pid: int, dept: Department) -> int:
    """A CT done on Monday with its final report, collected by someone the patient sent."""
    referral = await approved_referral(uow, pid, dept.ct_brain)
    booking = await _book(uow, pid, referral, dept.ct.id, at(MONDAY, 9))
    await check_in(uow, RECEPTION, booking, accession_number="A-778")
    for kind in (ReportEvent.IMAGES_READY, ReportEvent.FINAL):
        await report_event(
            uow, source="his", accession_number="A-778", kind=kind, occurred_at=at(MONDAY, 11)
        )
    report = await uow.session.scalar(select(Report).where(Report.booking_id == booking))
    assert report is not None
    await hand_over(uow, RECEPTION, report.id, to="proxy", note="حسن کریمی، کارت ملی")
    return booking


def _read(export_zip: bytes) -> tuple[dict[str, Any], str, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(export_zip)) as archive:
        text = archive.read("patient.json").decode("utf-8")
        files = {n: archive.read(n) for n in archive.namelist() if n.startswith("files/")}
    return json.loads(text), text, files


async def test_the_export_holds_everything_about_them_and_nothing_of_anyone_else(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 1)
        other = await _other(uow)
        await _family(uow, files, pid, other)
        paper = await _paper_referral(uow, files, pid, dept)
        booking = await _a_done_exam(uow, pid, dept)
        uow.session.add(
            InboundSms(
                provider="kavenegar", provider_message_id="m1", mobile="09120000001",
                line="3000", body="۱ میام", received_at=uow.clock.now(), outcome="confirmed",
            )
        )  # fmt: skip
        await uow.commit()
    async with env.uow() as uow:
        pickup = await uow.session.scalar(
            select(Report.pickup_code).where(Report.booking_id == booking)
        )
        export = await export_patient(uow, ADMIN, to_persian_digits(national_code(1)), files=files)
        await uow.commit()
        exported = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "patient.exported")
        )
    data, text, stored = _read(export.zip_bytes())

    assert data["patient"]["national_code"] == national_code(1)
    assert data["patient"]["mobile"] == "09120000001"
    assert stored == {f"files/{paper}-1.pdf": PDF, "files/draft-1.jpg": JPEG}
    [with_file] = [r for r in data["referrals"] if r["id"] == paper]
    assert with_file["prescription_file"]["file"] == f"files/{paper}-1.pdf"
    assert with_file["screening_answers"][0]["answer"] is False
    [done] = [b for b in data["bookings"] if b["id"] == booking]
    assert (done["day_jalali"], done["time_tehran"], done["status"], done["channel"]) == (
        "1405/09/09", "09:00", "completed", "chat",
    )  # fmt: skip
    [report] = data["reports"]
    assert report["accession_number"] == "A-778" and report["collected"] is True
    assert data["acting_for_you"] == [
        {"platform": "telegram", "you_are_their": "parent", "their_record": other,
         "since": data["acting_for_you"][0]["since"]},
    ]  # fmt: skip
    assert {n["kind"] for n in data["notices"]} >= {"booking_confirmed", "report_ready"}
    assert [m["text"] for m in data["sms_received"]] == ["۱ میام"]
    assert data["chat_drafts"][0]["data"]["request"]["exam_id"] == 3
    assert [(c["name"], c["state"]) for c in data["chat_conversations"]] == [("request", 2)]
    assert {e["action"] for e in data["audit"]} >= {"booking.check_in", "report.handed_over"}
    assert data["notes"]
    # Nothing of anyone else, and no pickup code (it would collect the report at the desk).
    assert pickup and pickup not in text
    for theirs in (national_code(9), OTHER_NAME, OTHER_MOBILE, "حسن کریمی"):
        assert theirs not in text
    assert exported is not None and exported.entity_id == pid
    assert exported.details["files"] == 2


async def test_only_an_admin_of_every_site_exports_or_erases(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    async with env.uow() as uow:
        dept = await build_department(uow)
        await add_patient(uow, 1)
        await uow.commit()
    held_to_one_site = Actor.staff(1, [Role.ADMIN], sites=[dept.site_id])
    async with env.uow() as uow:
        for actor in (RECEPTION, held_to_one_site, Actor.patient(1)):
            with pytest.raises(NotAllowed):
                await export_patient(uow, actor, national_code(1), files=files)
            with pytest.raises(NotAllowed):
                await erase_patient(
                    uow, actor, national_code(1), files=files, cancel_upcoming=True
                )
        with pytest.raises(InvalidNationalCode):
            await patient_card(uow, ADMIN, "12345")
        with pytest.raises(NotFound):
            await patient_card(uow, ADMIN, national_code(5))
        card = await patient_card(uow, Actor.system(), national_code(1))
    assert card.counts["bookings"] == 0 and card.upcoming == 0


async def test_erasure_cancels_what_is_open_and_keeps_the_hospitals_records_without_identity(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 1)
        other = await _other(uow)
        await _family(uow, files, pid, other)
        paper = await _paper_referral(uow, files, pid, dept)
        done = await _a_done_exam(uow, pid, dept)
        upcoming = await _book(
            uow, pid, await approved_referral(uow, pid, dept.ct_contrast), dept.ct.id,
            at(TUESDAY, 10),
        )  # fmt: skip
        waiting = await approved_referral(uow, other, dept.ct_contrast)
        await join_waitlist(uow, Actor.patient(other), waiting, TUESDAY + timedelta(days=3))
        uow.session.add(
            SmsQuestion(
                mobile="09120000001", patient_id=pid, booking_id=upcoming, kind="reminder",
                asked_at=uow.clock.now(),
            )
        )  # fmt: skip
        now = uow.clock.now()
        uow.session.add(  # a one-time code sent to their mobile when an account claimed them
            IdentityCheck(
                purpose="self", asker_scope="telegram", asker_id=5, national_code_hash="x" * 64,
                patient_id=pid, mobile="09120000001", language="fa", salt="s" * 32, sends=1,
                attempts=0, sent_at=now, expires_at=now + timedelta(minutes=10), created_at=now,
            )
        )  # fmt: skip
        await uow.commit()
    [stored] = list((tmp_path / "files").rglob("*.pdf"))
    [photo] = list((tmp_path / "files").rglob("*.jpg"))  # in the request under way

    async with env.uow() as uow:
        card = await patient_card(uow, ADMIN, national_code(1))
        with pytest.raises(ErasureBlocked) as refused:
            await erase_patient(uow, ADMIN, national_code(1), files=files, cancel_upcoming=False)
    assert (card.upcoming, card.open_requests) == (1, 1)  # the paper referral, not yet reviewed
    assert refused.value.params == {"bookings": 1, "requests": 1}
    assert stored.exists()

    async with env.uow() as uow:
        summary = await erase_patient(
            uow, ADMIN, national_code(1), files=files, cancel_upcoming=True
        )
        await uow.commit()
    assert summary.erased and (summary.cancelled, summary.withdrawn) == (1, 2)
    assert summary.removed["prescription_files"] == 2
    assert not stored.exists() and not photo.exists()
    assert summary.removed["chat_accounts"] == 1 and summary.removed["family_links"] == 1
    assert summary.removed["sms_code_checks"] == 1
    assert summary.kept["bookings"] == 2 and summary.kept["reports"] == 1

    async with env.uow() as uow:
        patient = await uow.session.get(Patient, pid)
        assert patient is not None
        assert (patient.national_code, patient.mobile) == (erased_code(pid), "")
        assert (patient.first_name, patient.last_name, patient.birth_year) == (NAME, NAME, 0)
        assert patient.consent_at is None
        assert await find_by_national_code(uow, national_code(1)) is None
        cancelled = await uow.session.get(Booking, upcoming)
        assert cancelled is not None and cancelled.status == "cancelled"
        # The freed place went to the other patient on the waitlist.
        entry = await uow.session.scalar(
            select(WaitlistEntry).where(WaitlistEntry.patient_id == other)
        )
        assert entry is not None and entry.status == "offered"
        report = await uow.session.scalar(select(Report).where(Report.booking_id == done))
        assert report is not None
        assert (report.accession_number, report.pickup_code, report.collected_note) == (
            "A-778", "", None,
        )  # fmt: skip
        referral = await uow.session.get(Referral, paper)
        assert (
            referral is not None and referral.file_ref is None and referral.tracking_code is None
        )
        assert referral.screening_answers == {} and referral.status == "withdrawn"
        for model, column in (
            (ChatAccount, ChatAccount.patient_id),
            (WaitlistEntry, WaitlistEntry.patient_id),
            (SmsQuestion, SmsQuestion.patient_id),
        ):
            assert await uow.session.scalar(select(func.count()).where(column == pid)) == 0, model
        assert await uow.session.scalar(select(func.count()).select_from(ChatUserData)) == 0
        # Their conversation state went; the other account's (it acted for them) is its own.
        assert list(await uow.session.scalars(select(ChatConversation.key))) == ["[7002, 7002]"]
        notices = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient_id == pid)
            )
        )
        assert notices and all(n.params == {} and n.status != "pending" for n in notices)
        # The other patient keeps their account; their record is untouched.
        assert await uow.session.scalar(
            select(func.count()).where(ChatAccount.patient_id == other)
        ) == 1  # fmt: skip
        erased = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "patient.erased")
        )
        assert erased is not None and erased.details["removed"]["prescription_files"] == 2
        assert pid not in [
            row.patient.id for row in await day_list(uow, ADMIN, dept.ct.id, MONDAY)
        ]
        # A correction of their report still arrives from the RIS: recorded, nobody told.
        told_before = len(notices)
        outcome = await report_event(
            uow, source="his", accession_number="A-778", kind=ReportEvent.CORRECTED,
            occurred_at=at(TUESDAY, 9),
        )  # fmt: skip
        assert outcome.value == "applied"
        assert await uow.session.scalar(
            select(func.count()).where(OutboxMessage.recipient_id == pid)
        ) == told_before  # fmt: skip
        # Asked again: there is no such patient any more, by code or by id.
        with pytest.raises(NotFound):
            await erase_patient(uow, ADMIN, pid, files=files, cancel_upcoming=True)

    # The same person may register again: a new record.
    async with env.uow() as uow:
        again = await add_patient(uow, 1)
        await uow.commit()
    assert again != pid
    # The audit log was only added to: its chain still holds.
    env.clock.advance(minutes=5)
    async with env.uow() as uow:
        await audit_chain.seal(uow)
        await uow.commit()
        assert (await audit_chain.verify(uow)).intact


async def test_erasure_waits_until_the_hospitals_systems_are_told(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    policy = Policy(outbound=("hl7_siu",))
    async with env.uow(policy) as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 1)
        referral = await approved_referral(uow, pid, dept.ct_brain)
        booking = await _book(uow, pid, referral, dept.ct.id, at(TUESDAY, 9))
        await uow.session.execute(update(OutboundEvent).values(status="sent"))  # told "booked"
        await uow.commit()
    async with env.uow(policy) as uow:
        first = await erase_patient(
            uow, ADMIN, national_code(1), files=files, cancel_upcoming=True
        )
        await uow.commit()
    assert (first.erased, first.cancelled, first.waiting) == (False, 1, 1)
    async with env.uow(policy) as uow:
        patient = await uow.session.get(Patient, pid)
        assert patient is not None and patient.national_code == national_code(1)
        kinds = list(
            await uow.session.scalars(select(OutboundEvent.kind).order_by(OutboundEvent.id))
        )
        assert kinds == ["booked", "cancelled"]
        # Not yet: the sender has not delivered the cancellation.
        again = await erase_patient(uow, ADMIN, pid, files=files, cancel_upcoming=False)
        assert not again.erased and again.waiting == 1
        await uow.session.execute(update(OutboundEvent).values(status="sent"))
        await uow.commit()
    async with env.uow(policy) as uow:
        done = await erase_patient(uow, ADMIN, pid, files=files, cancel_upcoming=False)
        await uow.commit()
        cancelled = await uow.session.get(Booking, booking)
    assert done.erased and done.kept["told_to_hospital"] == 2
    assert cancelled is not None and cancelled.status == "cancelled"


async def test_an_exam_in_progress_is_finished_before_erasure(
    env: ClinicEnv, tmp_path: Path
) -> None:
    files = FileStore(tmp_path / "files")
    async with env.uow() as uow:
        dept = await build_department(uow)
        pid = await add_patient(uow, 1)
        booking = await _book(
            uow, pid, await approved_referral(uow, pid, dept.ct_brain), dept.ct.id, at(MONDAY, 9)
        )
        await check_in(uow, RECEPTION, booking)
        await uow.commit()
    async with env.uow() as uow:
        with pytest.raises(ExamInProgress):
            await erase_patient(uow, ADMIN, pid, files=files, cancel_upcoming=True)
        card = await patient_card(uow, ADMIN, pid)
    assert card.admitted == 1
