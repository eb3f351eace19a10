"""Family members: added with the holder's consent after the one-time code sent to their
mobile, acted for from the holder's account and by no one else, limits per patient, removed;
one on record linked as they are; the member taking their record over and revoking."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from clinic.accounts import chat_identity
from clinic.actors import Actor
from clinic.booking import bookings_for_patient, confirm_booking, get_booking, hold_slot
from clinic.errors import (
    AlreadyRegistered,
    InvalidInput,
    InvalidNationalCode,
    NotAllowed,
    NotFound,
    OpenReferralForExam,
    TooManyFamilyMembers,
)
from clinic.family import (
    FOR,
    MAX_MEMBERS,
    OWN_CODE,
    AlreadyInFamily,
    Member,
    MemberDetails,
    accounts_with_access,
    add_family_member,
    check_new_member,
    family_members,
    label,
    link_family_member,
    notice_text,
    remove_family_member,
    revoke_access,
    send_member_code,
)
from clinic.i18n import translator
from clinic.identity_checks import Asker, CheckNeeded, check_code, code_sms
from clinic.jalali import TEHRAN
from clinic.link_limits import ChatUser
from clinic.models import ChatAccount, OutboxMessage, Patient, Platform, Registrar, Relation, Sex
from clinic.outbox_store import patient_recipient
from clinic.patients import claim_by_verified_mobile, get_patient, link_chat_account
from clinic.referrals import ReferralRequest, submit_referral
from tests.factories import (
    Department,
    add_patient,
    approved_referral,
    build_department,
    national_code,
    tracking_code,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

DAUGHTER = ChatUser(Platform.TELEGRAM, 5001)
FATHER = ChatUser(Platform.TELEGRAM, 5002)
MONDAY = date(2026, 11, 30)
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


def father(n: int = 5, /, **overrides: object) -> MemberDetails:
    """A father, as a daughter types him (Arabic and Persian digits, Arabic letters)."""
    values: dict[str, object] = {
        "national_code": national_code(n).translate(ARABIC),
        "first_name": "حسن",
        "last_name": "كريمي",  # Arabic Kaf and Yeh, as some keyboards type them
        "birth_year": "۱۳۳۵",
        "sex": "مرد",
        "relation": "parent",
        "mobile": "۰۹۱۲ ۰۰۰ ۵۰۰۲",
    }
    values.update(overrides)
    return MemberDetails(**values)  # type: ignore[arg-type]


async def _daughter(env: ClinicEnv) -> tuple[Department, Actor]:
    """The department, and a registered patient on her own Telegram account."""
    async with env.uow() as uow:
        dept = await build_department(uow, ct_places=10)
        pid = await add_patient(uow, 0, sex="female", birth_year=1365)
        await link_chat_account(uow, pid, DAUGHTER.platform, DAUGHTER.user_id, DAUGHTER.user_id)
        await uow.commit()
    return dept, Actor.patient(pid)


async def _confirmed(
    env: ClinicEnv, me: Actor, code: str, mobile: str | None, who: ChatUser = DAUGHTER
) -> int:
    """The one-time code sent for ``code`` and typed back as its text message shows it."""
    async with env.uow() as uow:
        check = await send_member_code(uow, me, who, code, mobile)
        await uow.commit()
    async with env.uow() as uow:
        sms = await code_sms(uow, check, 1)
        assert sms is not None
        await check_code(uow, Asker.of_chat(who), check, sms.code)
        await uow.commit()
    return check


async def _add(env: ClinicEnv, me: Actor, details: MemberDetails | None = None) -> Member:
    details = details or father()
    check = await _confirmed(env, me, details.national_code, details.mobile)
    async with env.uow() as uow:
        member = await add_family_member(uow, me, DAUGHTER, details, check)
        await uow.commit()
    return member


async def _acting(env: ClinicEnv, who: ChatUser) -> Actor:
    """The patient on ``who`` as the bot's gate builds them: with the family it acts for."""
    async with env.uow() as uow:
        identity = await chat_identity(uow, who.platform, who.user_id)
    assert identity.own is not None
    return Actor.patient(identity.own.id, [p.id for p in identity.patients])


async def _booked(uow: UnitOfWork, me: Actor, patient_id: int, dept: Department) -> int:
    referral = await approved_referral(uow, patient_id, dept.ct_brain)
    held = await hold_slot(uow, me, referral, dept.ct.id, at(9))
    return (await confirm_booking(uow, me, held.id)).id


async def test_a_member_is_registered_with_the_consent_given_on_this_account(
    env: ClinicEnv,
) -> None:
    _, me = await _daughter(env)
    member = await _add(env, me)
    assert (member.first_name, member.last_name, member.sex) == ("حسن", "کریمی", Sex.MALE)
    async with env.uow() as uow:
        patient = await get_patient(uow, member.patient_id)
        own = await uow.session.scalar(
            select(ChatAccount).where(ChatAccount.patient_id == me.id, ChatAccount.is_self)
        )
        link = await uow.session.scalar(
            select(ChatAccount).where(ChatAccount.patient_id == member.patient_id)
        )
        identity = await chat_identity(uow, DAUGHTER.platform, DAUGHTER.user_id)
        listed = await family_members(uow, DAUGHTER)
    assert own is not None and link is not None
    assert (patient.national_code, patient.mobile, patient.birth_year) == (
        national_code(5), "09120005002", 1335,
    )  # fmt: skip
    assert patient.registered_by == Registrar.FAMILY and patient.registered_by_id == me.id
    assert patient.consent_at == env.clock.now()
    assert patient.consent_via == f"family:{own.id}"
    assert (link.user_id, link.chat_id, link.is_self, link.relation) == (
        DAUGHTER.user_id, DAUGHTER.user_id, False, Relation.PARENT,
    )  # fmt: skip
    assert [(p.id, p.own) for p in identity.patients] == [
        (me.id, True),
        (member.patient_id, False),
    ]
    assert identity.own is not None and identity.own.id == me.id  # her own record stays hers
    assert listed == [member]
    _ = translator("en").gettext
    assert label(member, _) == _(FOR).format(relation="Father", name="حسن کریمی")


async def test_a_member_without_a_mobile_keeps_the_holders(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    member = await _add(env, me, father(mobile=None, sex="female", relation="child"))
    async with env.uow() as uow:
        patient = await get_patient(uow, member.patient_id)
        holder = await get_patient(uow, me.id or 0)
    assert patient.mobile == holder.mobile
    assert member.word == "Daughter"


async def test_bad_answers_are_refused(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    cases: tuple[tuple[dict[str, object], type[Exception]], ...] = (
        ({"national_code": "1111111111"}, InvalidNationalCode),
        ({"relation": "neighbour"}, InvalidInput),
        ({"birth_year": "۱۲۰۰"}, InvalidInput),
        ({"first_name": "حسن2"}, InvalidInput),
        ({"mobile": "12345"}, InvalidInput),
    )
    for bad, error in cases:
        async with env.uow() as uow:
            with pytest.raises(error):
                await add_family_member(uow, me, DAUGHTER, father(**bad), 0)
    async with env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Patient.id))) == 1


async def test_a_record_on_file_is_linked_as_it_is_after_the_code_to_its_mobile(
    env: ClinicEnv,
) -> None:
    _, me = await _daughter(env)
    async with env.uow() as uow:
        other = await add_patient(uow, 7)
        await uow.session.execute(
            update(Patient).where(Patient.id == other).values(first_name="زهرا")
        )
        await uow.commit()
        # Nothing is said of the record: the code is asked for, as for a new one.
        assert await check_new_member(uow, me, DAUGHTER, national_code(7).translate(PERSIAN))
        with pytest.raises(InvalidInput, match="your own national code"):
            await check_new_member(uow, me, DAUGHTER, national_code(0))
    check = await _confirmed(env, me, national_code(7), "09129998877")
    async with env.uow() as uow:
        sms_to = await uow.session.scalar(
            select(func.count(ChatAccount.id)).where(ChatAccount.patient_id == other)
        )
        with pytest.raises(CheckNeeded):  # a code for a record on file registers no one anew
            await add_family_member(uow, me, DAUGHTER, father(7), check)
    assert sms_to == 0
    async with env.uow() as uow:
        member = await link_family_member(uow, me, DAUGHTER, check, "sibling")
        await uow.commit()
    async with env.uow() as uow:
        still = await get_patient(uow, other)
        told = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "record_linked")
        )
        with pytest.raises(CheckNeeded):  # spent
            await link_family_member(uow, me, DAUGHTER, check, "sibling")
        with pytest.raises(AlreadyInFamily):
            await check_new_member(uow, me, DAUGHTER, national_code(7))
    assert (member.patient_id, member.relation, member.first_name) == (
        other, Relation.SIBLING, "زهرا",
    )  # fmt: skip
    assert (still.first_name, still.mobile, still.consent_via) == ("زهرا", "09120000007", "staff")
    assert told is not None and (told.recipient_kind, told.recipient_id) == ("patient", other)
    assert translator("fa").gettext(OWN_CODE)


async def test_a_code_goes_to_the_record_s_mobile_or_else_to_the_one_given(
    env: ClinicEnv,
) -> None:
    _, me = await _daughter(env)
    async with env.uow() as uow:
        await add_patient(uow, 7)
        await uow.commit()
    sent = []
    for code, mobile in ((national_code(7), "09129998877"), (national_code(8), "09129998877"),
                         (national_code(9), None)):  # fmt: skip
        async with env.uow() as uow:
            check = await send_member_code(uow, me, DAUGHTER, code, mobile)
            await uow.commit()
        async with env.uow() as uow:
            sms = await code_sms(uow, check, 1)
        assert sms is not None
        sent.append(sms.mobile)
    # On record: its own mobile; new: the one given; new with none given: the holder's.
    assert sent == ["09120000007", "09129998877", "09120000000"]


async def test_only_a_patient_on_their_own_account_adds_members(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    member = await _add(env, me)
    stranger = ChatUser(Platform.TELEGRAM, 5999)  # an account she is not linked on
    for actor, who in (
        (me, stranger),
        (me, ChatUser(Platform.BALE, DAUGHTER.user_id)),
        (Actor.patient(member.patient_id), DAUGHTER),  # the member is no holder here
        (Actor.health_worker(1), DAUGHTER),
        (Actor.system(), DAUGHTER),
    ):
        async with env.uow() as uow:
            with pytest.raises(NotAllowed):
                await add_family_member(uow, actor, who, father(6), 0)
            with pytest.raises(NotAllowed):
                await check_new_member(uow, actor, who, national_code(6))


async def test_one_account_adds_at_most_a_few_members(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    for n in range(MAX_MEMBERS):
        await _add(env, me, father(20 + n, mobile=None))
        env.clock.advance(hours=5)  # an account gets a few codes a day
    async with env.uow() as uow:
        with pytest.raises(TooManyFamilyMembers):
            await check_new_member(uow, me, DAUGHTER, national_code(40))
        with pytest.raises(TooManyFamilyMembers):
            await add_family_member(uow, me, DAUGHTER, father(40), 0)


async def test_the_same_person_added_twice_at_once_is_registered_once(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    async with env.uow() as uow:
        son = await add_patient(uow, 8)
        await link_chat_account(uow, son, Platform.TELEGRAM, 5003, 5003)
        await uow.commit()

    brother = ChatUser(Platform.TELEGRAM, 5003)
    checks = {
        DAUGHTER: await _confirmed(env, me, national_code(5), "09120005002"),
        brother: await _confirmed(
            env, Actor.patient(son), national_code(5), "09120005002", brother
        ),
    }

    async def add(actor: Actor, who: ChatUser) -> str:
        try:
            async with env.uow() as uow:
                await add_family_member(uow, actor, who, father(), checks[who])
                await uow.commit()
        except AlreadyRegistered:
            return "refused"
        return "added"

    results = await asyncio.gather(add(me, DAUGHTER), add(Actor.patient(son), brother))
    assert sorted(results) == ["added", "refused"]
    async with env.uow() as uow:
        count = await uow.session.scalar(
            select(func.count(Patient.id)).where(Patient.national_code == national_code(5))
        )
    assert count == 1


async def test_the_account_acts_for_its_members_and_for_no_one_else(env: ClinicEnv) -> None:
    dept, me = await _daughter(env)
    member = await _add(env, me)
    acting = await _acting(env, DAUGHTER)
    assert acting.family == {member.patient_id}
    async with env.uow() as uow:
        stranger = await add_patient(uow, 9)
        theirs = await _booked(uow, Actor.patient(stranger), stranger, dept)
        booked = await _booked(uow, acting, member.patient_id, dept)
        await uow.commit()
    async with env.uow() as uow:
        booking = await get_booking(uow, acting, booked)
        assert booking.patient_id == member.patient_id
        assert [b.id for b in await bookings_for_patient(uow, acting, member.patient_id)] == [
            booked
        ]
        with pytest.raises(NotFound):
            await get_booking(uow, acting, theirs)
        with pytest.raises(NotFound):  # her own self, without the account's family
            await get_booking(uow, Actor.patient(me.id or 0), booked)
        with pytest.raises(NotFound):  # the member does not act for the holder
            await get_booking(uow, Actor.patient(member.patient_id), theirs)


async def test_the_limits_are_each_patients_own(env: ClinicEnv) -> None:
    dept, me = await _daughter(env)
    member = await _add(env, me)
    acting = await _acting(env, DAUGHTER)
    async with env.uow() as uow:
        await _booked(uow, acting, me.id or 0, dept)  # her CT: her one open CT referral
        await _booked(uow, acting, member.patient_id, dept)  # his, all the same
        await uow.commit()
    async with env.uow() as uow:
        answers = {"pregnancy": False, "pacemaker": False}
        request = ReferralRequest(
            member.patient_id, dept.ct_brain.id, "tamin", answers, tracking_code=tracking_code()
        )
        with pytest.raises(OpenReferralForExam):  # his second CT is his limit
            await submit_referral(uow, acting, request)


async def test_a_member_removed_is_no_longer_acted_for_and_keeps_their_record(
    env: ClinicEnv,
) -> None:
    dept, me = await _daughter(env)
    member = await _add(env, me)
    acting = await _acting(env, DAUGHTER)
    async with env.uow() as uow:
        booked = await _booked(uow, acting, member.patient_id, dept)
        await uow.commit()
    async with env.uow() as uow:
        assert await remove_family_member(uow, me, DAUGHTER, member.patient_id) == member
        await uow.commit()
    after = await _acting(env, DAUGHTER)
    assert after.family == frozenset()
    async with env.uow() as uow:
        with pytest.raises(NotFound):
            await get_booking(uow, after, booked)
        with pytest.raises(NotFound):  # not a member (any more)
            await remove_family_member(uow, me, DAUGHTER, member.patient_id)
        kept = await get_booking(uow, Actor.system(), booked)
        assert (kept.patient_id, kept.status) == (member.patient_id, "confirmed")


async def test_the_member_takes_their_record_over_and_revokes_the_family(
    env: ClinicEnv,
) -> None:
    _, me = await _daughter(env)
    member = await _add(env, me)
    async with env.uow() as uow:
        # Registering in his own chat: his phone, verified by the platform, is the one given.
        found = await claim_by_verified_mobile(uow, national_code(5), "989120005002")
        assert found is not None and found.id == member.patient_id
        await link_chat_account(uow, found.id, FATHER.platform, FATHER.user_id, FATHER.user_id)
        await uow.commit()
    him = await _acting(env, FATHER)
    assert him.id == member.patient_id and him.family == frozenset()
    async with env.uow() as uow:
        recipient = await patient_recipient(uow, member.patient_id)
        shared = await accounts_with_access(uow, him, FATHER)
        mine = await accounts_with_access(uow, me, DAUGHTER)
    assert recipient is not None
    assert [a.user_id for a in recipient.accounts] == [FATHER.user_id, DAUGHTER.user_id]
    assert [(a.platform, a.relation) for a in shared] == [(Platform.TELEGRAM, Relation.PARENT)]
    assert mine == []
    # The family's account still acts for him until he says otherwise.
    assert (await _acting(env, DAUGHTER)).family == {member.patient_id}
    own = recipient.accounts[0].id
    async with env.uow() as uow:
        with pytest.raises(NotFound):  # she cannot take his own account's access away
            await revoke_access(uow, me, DAUGHTER, own)
        with pytest.raises(NotAllowed):  # nor list it from hers
            await accounts_with_access(uow, Actor.patient(member.patient_id), DAUGHTER)
    async with env.uow() as uow:
        revoked = await revoke_access(uow, him, FATHER, shared[0].account_id)
        await uow.commit()
    assert revoked == shared[0]
    assert (await _acting(env, DAUGHTER)).family == frozenset()
    async with env.uow() as uow:
        assert await accounts_with_access(uow, him, FATHER) == []
        recipient = await patient_recipient(uow, member.patient_id)
    assert recipient is not None
    assert [a.user_id for a in recipient.accounts] == [FATHER.user_id]


async def test_a_notice_on_a_family_account_says_whose_it_is(env: ClinicEnv) -> None:
    _, me = await _daughter(env)
    member = await _add(env, me)
    async with env.uow() as uow:
        recipient = await patient_recipient(uow, member.patient_id)
    assert recipient is not None
    [account] = recipient.accounts
    _ = translator("fa").gettext
    expected = _(FOR).format(relation=_("Father"), name="حسن کریمی")
    assert notice_text("یادآوری نوبت", account, recipient.patient) == f"{expected}\n\nیادآوری نوبت"
    account.is_self = True  # on his own account, no label
    assert notice_text("یادآوری نوبت", account, recipient.patient) == "یادآوری نوبت"
