"""One-time SMS codes (issue 15, part 5): sent to the mobile on record (else the one given),
kept nowhere, confirmed once, void after five wrong tries or ten minutes, a new one a minute
later, a few a day per asker and per national code; audited without personal data; a worker
taking a patient on; the core refusing a self-registration or a health worker's new record
without one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from clinic import retention
from clinic.actors import Actor
from clinic.claims import claim_own_record, take_on
from clinic.errors import NotAllowed
from clinic.files import FileStore
from clinic.identity_checks import (
    Asker,
    CheckNeeded,
    CodePaused,
    CodeUsedUp,
    NoMoreCodes,
    Proof,
    WaitToResend,
    WrongCode,
    check_code,
    code_sms,
    resend,
    send_code,
)
from clinic.link_limits import ChatUser
from clinic.models import (
    ActorKind,
    AuditEntry,
    ChatAccount,
    IdentityCheck,
    OutboxMessage,
    Patient,
    Platform,
)
from clinic.patients import PatientDetails, get_patient, register_patient
from clinic.retention import RetentionRules
from clinic.staff import add_health_house, add_health_worker
from tests.factories import ADMIN, add_patient, national_code, worker_proof

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import ClinicEnv

ME = ChatUser(Platform.TELEGRAM, 6001)
ASKER = Asker.of_chat(ME)
MINE = "09351112233"  # the number this account shared
NEWCOMER = Actor(ActorKind.PATIENT)  # someone registering themself in chat


async def _send(env: ClinicEnv, n: int, asker: Asker = ASKER, purpose: str = "self") -> int:
    async with env.uow() as uow:
        try:
            return await send_code(uow, asker, purpose, national_code(n), mobile_if_new=MINE)
        finally:
            await uow.commit()


async def _code(env: ClinicEnv, check: int) -> str:
    """What the check's latest text message says."""
    async with env.uow() as uow:
        row = await uow.session.get(IdentityCheck, check)
        assert row is not None
        sms = await code_sms(uow, check, row.sends)
    assert sms is not None
    return sms.code


async def _type(env: ClinicEnv, check: int, code: str, asker: Asker = ASKER) -> object:
    async with env.uow() as uow:
        try:
            result: object = await check_code(uow, asker, check, code)
        except (WrongCode, CodeUsedUp, CodePaused, CheckNeeded) as error:
            result = error
        await uow.commit()
    return result


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100_000:05d}"


async def test_the_code_goes_to_the_record_s_mobile_and_is_kept_nowhere(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        pid = await add_patient(uow, 1)
        await uow.commit()
    on_record, new = await _send(env, 1), await _send(env, 2)
    async with env.uow() as uow:
        first = await code_sms(uow, on_record, 1)
        second = await code_sms(uow, new, 1)
        rows = list(await uow.session.scalars(select(IdentityCheck).order_by(IdentityCheck.id)))
        queued = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert first is None  # voided: one open check per account, the newest
    assert second is not None and second.mobile == MINE
    assert [(r.patient_id, r.mobile) for r in rows] == [(pid, "09120000001"), (None, MINE)]
    for row in rows:
        assert national_code(1) not in str(vars(row)) and national_code(2) not in str(vars(row))
    assert second.code not in str([q.params for q in queued])  # the outbox names the check only
    assert [(q.kind, q.params, q.urgent) for q in queued] == [
        ("identity_code", {"check": on_record, "send": 1}, True),
        ("identity_code", {"check": new, "send": 1}, True),
    ]


async def test_a_right_code_confirms_once_and_wrong_ones_run_out(env: ClinicEnv) -> None:
    check = await _send(env, 3)
    code = await _code(env, check)
    lefts = [await _type(env, check, _wrong(code)) for _ in range(4)]
    assert [e.params["left"] for e in lefts if isinstance(e, WrongCode)] == [4, 3, 2, 1]
    assert isinstance(await _type(env, check, _wrong(code)), CodeUsedUp)  # the fifth
    assert isinstance(
        await _type(env, check, code), CodeUsedUp
    )  # void: too late for the right one
    env.clock.advance(seconds=61)
    async with env.uow() as uow:
        await resend(uow, ASKER, check)
        await uow.commit()
    fresh = await _code(env, check)
    verified = await _type(env, check, fresh.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    assert not isinstance(verified, Exception)
    assert isinstance(await _type(env, check, fresh), CodeUsedUp)  # once


async def test_a_code_lives_ten_minutes_and_another_asker_cannot_use_it(env: ClinicEnv) -> None:
    check = await _send(env, 4)
    code = await _code(env, check)
    stranger = Asker.of_chat(ChatUser(Platform.BALE, 6001))  # same id, another platform
    assert isinstance(await _type(env, check, code, stranger), CodeUsedUp)
    env.clock.advance(minutes=10)
    assert isinstance(await _type(env, check, code), CodeUsedUp)
    async with env.uow() as uow:
        assert await code_sms(uow, check, 1) is None  # the notifier would send nothing now


async def test_a_new_code_waits_a_minute_and_replaces_the_old(env: ClinicEnv) -> None:
    check = await _send(env, 5)
    old = await _code(env, check)
    async with env.uow() as uow:
        with pytest.raises(WaitToResend):
            await resend(uow, ASKER, check)
    assert await _send(env, 5) == check  # typed again within the minute: no second message
    env.clock.advance(seconds=60, microseconds=1)
    async with env.uow() as uow:
        await resend(uow, ASKER, check)
        await uow.commit()
    async with env.uow() as uow:
        assert await code_sms(uow, check, 1) is None  # the first message is of no use now
        sends = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "identity_code")
        )
    assert sends == 2
    new = await _code(env, check)
    if new != old:
        assert isinstance(await _type(env, check, old), WrongCode)
    assert not isinstance(await _type(env, check, new), Exception)


async def test_a_few_codes_a_day_per_national_code_and_per_asker(env: ClinicEnv) -> None:
    askers = [Asker.of_chat(ChatUser(Platform.TELEGRAM, 6100 + i)) for i in range(4)]
    for asker in askers[:3]:
        await _send(env, 6, asker)
    with pytest.raises(NoMoreCodes):
        await _send(env, 6, askers[3])  # the record's owner is not flooded
    for n in range(7, 11):
        await _send(env, n, askers[3])  # its refused try counted: four more today
    with pytest.raises(NoMoreCodes):
        await _send(env, 11, askers[3])
    env.clock.advance(days=1, seconds=1)
    await _send(env, 6, askers[3])
    async with env.uow() as uow:
        refused = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "identity_check.refuse")
            )
        )
    assert [e.details["reason"] for e in refused] == ["smsnc", "sms"]
    assert all(
        set(e.details) == {"purpose", "reason", "platform", "chat_user_id"} for e in refused
    )


async def test_ten_wrong_codes_an_hour_pause_the_asker(env: ClinicEnv) -> None:
    check = await _send(env, 12)
    code = await _code(env, check)
    for _ in range(5):
        await _type(env, check, _wrong(code))
    env.clock.advance(seconds=61)
    async with env.uow() as uow:
        await resend(uow, ASKER, check)
        await uow.commit()
    code = await _code(env, check)
    results = [await _type(env, check, _wrong(code)) for _ in range(5)]
    assert isinstance(results[-1], CodePaused)
    assert isinstance(await _type(env, check, code), CodePaused)  # nothing is looked at
    env.clock.advance(hours=1, seconds=1)
    assert isinstance(await _type(env, check, code), WrongCode | CodeUsedUp)  # counted again
    async with env.uow() as uow:
        failures = list(
            await uow.session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "identity_check.fail")
            )
        )
    assert len(failures) == 12
    assert all(national_code(12) not in str(d) and code not in str(d) for d in failures)


async def test_wrong_codes_at_once_are_each_counted(env: ClinicEnv) -> None:
    check = await _send(env, 13)
    code = await _code(env, check)
    results = await asyncio.gather(*(_type(env, check, _wrong(code)) for _ in range(7)))
    assert all(isinstance(r, WrongCode | CodeUsedUp) for r in results)
    async with env.uow() as uow:
        row = await uow.session.get(IdentityCheck, check)
    assert row is not None and row.attempts == 5  # the void check takes no more
    assert isinstance(await _type(env, check, code), CodeUsedUp)


async def test_a_self_registration_needs_a_confirmed_code(env: ClinicEnv) -> None:
    details = PatientDetails(national_code(14), MINE, "مریم", "صادقی", "1370", "female")
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):
            await register_patient(uow, NEWCOMER, details, consent=True)
    check = await _send(env, 14)
    proof = Proof(ASKER, check, "self")
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):  # sent, not confirmed
            await register_patient(uow, NEWCOMER, details, consent=True,
                                   proof=proof)  # fmt: skip
    await _type(env, check, await _code(env, check))
    other = PatientDetails(national_code(14), "09129990000", "مریم", "صادقی", "1370", "female")
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):  # confirmed for another mobile
            await register_patient(uow, NEWCOMER, other, consent=True,
                                   proof=proof)  # fmt: skip
    async with env.uow() as uow:
        patient = await register_patient(uow, NEWCOMER, details, consent=True, proof=proof)
        await uow.commit()
    assert patient.consent_via == "self+sms"
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):  # spent
            await register_patient(uow, NEWCOMER,
                                   PatientDetails(national_code(15), MINE, "مریم", "صادقی",
                                                  "1370", "female"),
                                   consent=True, proof=proof)  # fmt: skip


async def test_a_health_worker_s_new_record_needs_the_code_the_patient_read_out(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم احمدی", mobile="09151234567"
        )
        other = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="رضا موسوی", mobile="09157654321"
        )
        await uow.commit()
    me, asker = Actor.health_worker(worker.id), Asker.health_worker(worker.id)
    details = PatientDetails(national_code(19), MINE, "زهرا", "کریمی", "۱۳۴۵", "female")
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):
            await register_patient(uow, me, details, consent=True)
        theirs = await worker_proof(uow, other.id, details.national_code, MINE)
        with pytest.raises(CheckNeeded):  # another worker's confirmed code is not this one's
            await register_patient(uow, me, details, consent=True, proof=theirs)
        await uow.commit()
    async with env.uow() as uow:
        stored = await uow.session.scalar(select(func.count(Patient.id)))
        registered = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "patient.register")
        )
    assert (stored, registered) == (0, 0)
    check = await _send(env, 19, asker, "health_worker")
    await _type(env, check, await _code(env, check), asker)
    async with env.uow() as uow:
        patient = await register_patient(
            uow, me, details, consent=True, proof=Proof(asker, check, "health_worker")
        )
        await uow.commit()
    async with env.uow() as uow:
        trail = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "patient.register")
        )
        # Their own patient now: the details are corrected with no code; another worker's
        # registration of the same national code is refused (taking on needs the code).
        again = await register_patient(uow, me, replace(details, first_name="زینب"), consent=True)
        with pytest.raises(NotAllowed):
            await register_patient(uow, Actor.health_worker(other.id), details, consent=True)
    assert (patient.health_worker_id, patient.consent_via) == (worker.id, "health_worker+sms")
    assert trail is not None and trail.details == {"evidence": "sms_code", "check_id": check}
    assert (again.id, again.first_name, again.consent_via) == (
        patient.id, "زینب", "health_worker+sms",
    )  # fmt: skip


async def test_a_record_is_claimed_with_its_mobile_s_code_and_its_mobile_told(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        pid = await add_patient(uow, 16)
        await uow.commit()
    check = await _send(env, 16)
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):  # not before the code
            await claim_own_record(uow, ME, ME.user_id, check)
    await _type(env, check, await _code(env, check))
    async with env.uow() as uow:
        patient = await claim_own_record(uow, ME, ME.user_id, check)
        await uow.commit()
    async with env.uow() as uow:
        account = await uow.session.scalar(select(ChatAccount))
        told = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "record_linked")
        )
        with pytest.raises(CheckNeeded):
            await claim_own_record(uow, ME, ME.user_id, check)
    assert patient.id == pid
    assert account is not None and (account.patient_id, account.is_self) == (pid, True)
    assert told is not None and (told.recipient_id, told.urgent) == (pid, True)


async def test_a_health_worker_takes_a_patient_on_with_the_code_the_patient_read_out(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم احمدی", mobile="09151234567"
        )
        pid = await add_patient(uow, 17)
        await uow.commit()
    asker = Asker.health_worker(worker.id)
    check = await _send(env, 17, asker, "health_worker")
    async with env.uow() as uow:
        with pytest.raises(CheckNeeded):
            await take_on(uow, Actor.health_worker(worker.id), check)
    await _type(env, check, await _code(env, check), asker)
    async with env.uow() as uow:
        await take_on(uow, Actor.health_worker(worker.id), check)
        await uow.commit()
    async with env.uow() as uow:
        patient = await get_patient(uow, pid)
        trail = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "patient.take_on")
        )
    assert patient.health_worker_id == worker.id
    assert trail is not None and trail.details["evidence"] == "sms_code"
    assert (trail.actor_kind, trail.actor_id) == ("health_worker", worker.id)


async def test_checks_go_a_day_after_they_expired(env: ClinicEnv, tmp_path: Path) -> None:
    await _send(env, 18)
    env.clock.advance(minutes=10, hours=23)
    async with env.uow() as uow:
        kept = await retention.run(uow, FileStore(tmp_path), RetentionRules())
        await uow.commit()
    env.clock.advance(hours=1, seconds=1)
    async with env.uow() as uow:
        gone = await retention.run(uow, FileStore(tmp_path), RetentionRules())
        await uow.commit()
        left = await uow.session.scalar(select(func.count(IdentityCheck.id)))
        patients = await uow.session.scalar(select(func.count(Patient.id)))
    assert (kept.identity_checks, gone.identity_checks, left, patients) == (0, 1, 0, 0)
