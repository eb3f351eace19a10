"""Link codes: hashed at rest, bound to the person's own number, tries limited and audited."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, text

from clinic import link_limits
from clinic.actors import Actor
from clinic.errors import (
    ClinicError,
    Conflict,
    InvalidInput,
    LinkLocked,
    NotAllowed,
    NotOwnContact,
    PhoneMismatch,
    WrongLinkCode,
)
from clinic.link_codes import NO_MOBILE, code_digest, issue_link_code
from clinic.link_limits import ChatUser
from clinic.linking import SharedContact, bind_link_code, check_link_code, worker_actor
from clinic.models import (
    ActorKind,
    AuditEntry,
    HealthWorker,
    LinkThrottle,
    OutboxMessage,
    Platform,
)
from clinic.outbox import Notice
from clinic.policy import LinkRules, Policy
from clinic.staff import add_health_house, add_health_worker, add_staff, set_staff_mobile
from clinic.text import to_persian_digits
from tests.factories import ADMIN, build_department

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MOBILE = "09151234567"
OWN = SharedContact("+98 915 123 4567", own=True)
WORKER_ACCOUNT = ChatUser(Platform.BALE, 777)
STRANGER = ChatUser(Platform.TELEGRAM, 5_000_000_001)  # beyond 32 bits, as Telegram ids are


@dataclass
class Issued:
    worker_id: int
    code: str


async def _worker_with_code(env: ClinicEnv) -> Issued:
    async with env.uow() as uow:
        await build_department(uow)  # staff 1 is the admin who issues the code
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت امیرآباد")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم احمدی", mobile=MOBILE
        )
        code = await issue_link_code(uow, ADMIN, "health_worker", worker.id)
        await uow.commit()
    return Issued(worker.id, code)


async def _try(env: ClinicEnv, raw: str, who: ChatUser, policy: Policy | None = None) -> object:
    """One /link try in its own unit of work, committed even when refused (as the bot does)."""
    async with env.uow(policy) as uow:
        try:
            result: object = await check_link_code(uow, raw, who)
        except ClinicError as error:
            result = error
        await uow.commit()
    return result


async def _bind(env: ClinicEnv, code_id: int, who: ChatUser, contact: SharedContact) -> object:
    async with env.uow() as uow:
        try:
            result: object = await bind_link_code(uow, code_id, who, contact)
        except ClinicError as error:
            result = error
        await uow.commit()
    return result


async def _failures(uow: UnitOfWork) -> list[dict[str, object]]:
    rows = await uow.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "link_code.fail").order_by(AuditEntry.id)
    )
    return [{"actor": r.actor_kind, **r.details} for r in rows]


async def test_a_code_is_kept_only_as_a_hash_and_links_the_owners_own_number(
    env: ClinicEnv,
) -> None:
    issued = await _worker_with_code(env)
    assert len(issued.code) == 10 and issued.code.isascii() and issued.code.isdigit()
    async with env.uow() as uow:
        rows = (await uow.session.execute(text("SELECT * FROM link_codes"))).all()
    assert len(rows) == 1
    assert not [v for v in rows[0] if issued.code in str(v)]

    code_id = await _try(
        env, to_persian_digits(issued.code[:5] + " " + issued.code[5:]), WORKER_ACCOUNT
    )
    assert isinstance(code_id, int)
    actor = await _bind(env, code_id, WORKER_ACCOUNT, OWN)
    assert actor == Actor(ActorKind.HEALTH_WORKER, issued.worker_id)
    async with env.uow() as uow:
        assert await worker_actor(uow, Platform.BALE, 777) == Actor.health_worker(issued.worker_id)
        redeemed = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "link_code.redeem")
        )
    assert redeemed is not None and redeemed.details["chat_user_id"] == 777
    async with env.uow() as uow:  # the admin who issued the code is told it was used
        told = (
            await uow.session.execute(
                select(
                    OutboxMessage.kind, OutboxMessage.recipient_kind, OutboxMessage.params
                ).where(OutboxMessage.kind == Notice.LINK_CODE_USED.value)
            )
        ).all()
    assert [(k, r, p["person_id"]) for k, r, p in told] == [
        ("link_code_used", "staff", issued.worker_id)
    ]
    assert told[0][1] == ActorKind.STAFF and MOBILE not in json.dumps(told[0][2])
    spent = await _try(env, issued.code, WORKER_ACCOUNT)  # once only
    assert isinstance(spent, WrongLinkCode)


async def test_only_admins_issue_and_only_for_someone_with_a_mobile(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        await build_department(uow)
        member = await add_staff(uow, ADMIN, full_name="نرگس پذیرش", roles=["reception"])
        with pytest.raises(NotAllowed):
            await issue_link_code(uow, Actor.health_worker(1), "staff", member.id)
        with pytest.raises(InvalidInput) as no_mobile:
            await issue_link_code(uow, ADMIN, "staff", member.id)
        assert no_mobile.value.message == NO_MOBILE
        await set_staff_mobile(uow, ADMIN, member.id, "۰۹۱۲۱۱۱۲۲۳۳")
        code = await issue_link_code(uow, ADMIN, "staff", member.id)
        await uow.commit()
    assert len(code) == 10


async def test_five_wrong_codes_lock_the_account_and_even_the_right_one_waits(
    env: ClinicEnv,
) -> None:
    issued = await _worker_with_code(env)
    wrong = f"{(int(issued.code) + 1) % 10**10:010d}"
    answers = [await _try(env, wrong, STRANGER) for _ in range(7)]
    assert [a.params["left"] for a in answers[:4] if isinstance(a, WrongLinkCode)] == [4, 3, 2, 1]
    locked = answers[4:]
    assert all(isinstance(a, LinkLocked) for a in locked)
    until = env.clock.now() + timedelta(hours=1)
    assert {a.until for a in locked if isinstance(a, LinkLocked)} == {until}

    right = await _try(env, issued.code, STRANGER)  # locked: not even looked up
    assert isinstance(right, LinkLocked)
    async with env.uow() as uow:
        failures = await _failures(uow)
    assert [f["reason"] for f in failures] == ["wrong"] * 5 + ["locked"] * 3
    assert [f["locked_out"] for f in failures[:5]] == [False] * 4 + [True]
    assert {(f["actor"], f["platform"], f["chat_user_id"]) for f in failures} == {
        ("chat_account", "telegram", STRANGER.user_id)
    }
    assert issued.code not in json.dumps(failures) and MOBILE not in json.dumps(failures)

    env.clock.advance(minutes=61)
    code_id = await _try(env, issued.code, STRANGER)
    assert isinstance(code_id, int)
    other = await _try(env, wrong, ChatUser(Platform.TELEGRAM, 42))  # accounts count apart
    assert isinstance(other, WrongLinkCode) and other.params["left"] == 4


async def test_a_wrong_number_or_someone_elses_contact_revokes_the_code_and_tells_the_admin(
    env: ClinicEnv,
) -> None:
    issued = await _worker_with_code(env)
    code_id = await _try(env, issued.code, STRANGER)
    assert isinstance(code_id, int)
    mismatch = await _bind(env, code_id, STRANGER, SharedContact("989121110000", own=True))
    assert isinstance(mismatch, PhoneMismatch)
    theirs = await _bind(env, code_id, STRANGER, SharedContact(MOBILE, own=False))
    assert isinstance(theirs, NotOwnContact)
    foreign = await _bind(
        env, code_id, ChatUser(Platform.TELEGRAM, 43), SharedContact("+1 555 0100", own=True)
    )
    assert isinstance(foreign, PhoneMismatch)
    # Three failed bindings: the code is revoked, so even its owner must ask for a new one.
    gone = await _bind(env, code_id, WORKER_ACCOUNT, OWN)
    assert isinstance(gone, WrongLinkCode)
    async with env.uow() as uow:
        worker = await uow.session.get(HealthWorker, issued.worker_id)
        notices = list(await uow.session.scalars(select(OutboxMessage)))
        revoked = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "link_code.revoke")
        )
        failures = await _failures(uow)
    assert worker is not None and worker.bale_user_id is None
    assert [(n.kind, n.recipient_kind, n.recipient_id) for n in notices] == [
        (Notice.LINK_CODE_REVOKED.value, "staff", ADMIN.id)
    ]
    assert revoked is not None and revoked.details == {
        "reason": "failed_bindings",
        "issuer_told": True,
    }
    assert [f["reason"] for f in failures] == [
        "phone_mismatch",
        "contact_not_own",
        "phone_mismatch",
        "revoked",
    ]


async def test_a_new_code_revokes_the_earlier_one(env: ClinicEnv) -> None:
    issued = await _worker_with_code(env)
    async with env.uow() as uow:
        newer = await issue_link_code(uow, ADMIN, "health_worker", issued.worker_id)
        await uow.commit()
    old = await _try(env, issued.code, WORKER_ACCOUNT)
    assert isinstance(old, WrongLinkCode)
    code_id = await _try(env, newer, WORKER_ACCOUNT)
    assert isinstance(code_id, int)
    assert await _bind(env, code_id, WORKER_ACCOUNT, OWN) == Actor.health_worker(issued.worker_id)
    async with env.uow() as uow:
        issues = list(
            await uow.session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "link_code.issue")
            )
        )
        reasons = [f["reason"] for f in await _failures(uow)]
    assert [d["revoked"] for d in issues] == [0, 1]
    assert reasons == ["revoked"]


async def test_an_expired_code_is_refused(env: ClinicEnv) -> None:
    issued = await _worker_with_code(env)
    env.clock.advance(hours=24, seconds=1)
    assert isinstance(await _try(env, issued.code, WORKER_ACCOUNT), WrongLinkCode)
    async with env.uow() as uow:
        assert [f["reason"] for f in await _failures(uow)] == ["expired"]


async def test_malformed_input_is_explained_and_not_counted(env: ClinicEnv) -> None:
    await _worker_with_code(env)
    for raw in ("abc", "12345678", "۱۲۳", ""):
        answer = await _try(env, raw, STRANGER)
        assert isinstance(answer, InvalidInput) and not isinstance(answer, WrongLinkCode)
    async with env.uow() as uow:
        assert await _failures(uow) == []


async def test_concurrent_wrong_tries_never_look_up_more_codes_than_the_limit(
    env: ClinicEnv,
) -> None:
    issued = await _worker_with_code(env)
    wrong = f"{(int(issued.code) + 7) % 10**10:010d}"
    answers = await asyncio.gather(*(_try(env, wrong, STRANGER) for _ in range(20)))
    assert sum(isinstance(a, WrongLinkCode) for a in answers) == 4
    assert sum(isinstance(a, LinkLocked) for a in answers) == 16
    async with env.uow() as uow:
        reasons = [f["reason"] for f in await _failures(uow)]
    assert reasons.count("wrong") == 5  # the fifth wrong one is what locked the account
    assert reasons.count("locked") == 15


async def test_under_a_department_wide_attack_each_account_gets_one_try(env: ClinicEnv) -> None:
    issued = await _worker_with_code(env)
    strict = Policy(link=LinkRules(global_failures=3))
    wrong = f"{(int(issued.code) + 3) % 10**10:010d}"
    for user in (1, 2):
        assert isinstance(
            await _try(env, wrong, ChatUser(Platform.TELEGRAM, user), strict), WrongLinkCode
        )
    third = await _try(env, wrong, ChatUser(Platform.TELEGRAM, 3), strict)
    assert isinstance(third, LinkLocked)  # the failure that reached the limit
    again = await _try(env, wrong, ChatUser(Platform.TELEGRAM, 1), strict)
    assert isinstance(again, LinkLocked)  # a second try while the department is under attack
    # A real health worker typing the right code on a first try is not locked out.
    assert isinstance(await _try(env, issued.code, WORKER_ACCOUNT, strict), int)
    async with env.uow() as uow:
        alarms = await uow.session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "link_code.global_limit")
        )
    assert alarms is not None


async def test_with_a_key_the_stored_hash_is_keyed(env: ClinicEnv) -> None:
    keyed = Policy(link=LinkRules(key=b"link-key-0123456789"))
    async with env.uow(keyed) as uow:
        await build_department(uow)
        house = await add_health_house(uow, ADMIN, name="خانه بهداشت")
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم احمدی", mobile=MOBILE
        )
        code = await issue_link_code(uow, ADMIN, "health_worker", worker.id)
        await uow.commit()
        stored = await uow.session.scalar(text("SELECT code_hash FROM link_codes"))
    assert stored == code_digest(code, b"link-key-0123456789") != code_digest(code, b"")
    assert isinstance(await _try(env, code, WORKER_ACCOUNT), WrongLinkCode)  # another key
    assert isinstance(await _try(env, code, ChatUser(Platform.BALE, 778), keyed), int)


async def test_two_admins_issuing_at_once_leave_one_open_code(env: ClinicEnv) -> None:
    issued = await _worker_with_code(env)

    async def issue() -> str | Conflict:
        async with env.uow() as uow:
            try:
                code = await issue_link_code(uow, ADMIN, "health_worker", issued.worker_id)
            except Conflict as error:  # PostgreSQL: the other one holds the one open code
                return error
            await uow.commit()
            return code

    results = await asyncio.gather(issue(), issue(), issue())
    codes = [r for r in results if isinstance(r, str)]
    assert codes  # at least one got through; any other was told to try again
    async with env.uow() as uow:
        open_codes = (
            await uow.session.execute(
                text("SELECT id FROM link_codes WHERE used_at IS NULL AND revoked_at IS NULL")
            )
        ).all()
    assert len(open_codes) == 1
    answers = [await _try(env, code, WORKER_ACCOUNT) for code in codes]
    assert sum(isinstance(a, int) for a in answers) == 1  # the open one; the others revoked


async def test_throttle_rows_are_forgotten_once_they_hold_no_one_back(env: ClinicEnv) -> None:
    issued = await _worker_with_code(env)
    wrong = f"{(int(issued.code) + 1) % 10**10:010d}"
    locked, tried = ChatUser(Platform.TELEGRAM, 51), ChatUser(Platform.TELEGRAM, 52)
    for _ in range(5):
        await _try(env, wrong, locked)
    await _try(env, wrong, tried)
    env.clock.advance(minutes=30)  # both still inside the window: nothing goes
    async with env.uow() as uow:
        assert await link_limits.prune(uow) == 0
    env.clock.advance(minutes=31)  # the window passed and the lockout (an hour) ended
    async with env.uow() as uow:
        assert await link_limits.prune(uow) == 2
        await uow.commit()
        rows = list(await uow.session.scalars(select(LinkThrottle.user_id)))
    assert rows == [0]  # the department-wide count stays
    again = await _try(env, wrong, locked)
    assert isinstance(again, WrongLinkCode) and again.params["left"] == 4
