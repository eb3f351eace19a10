"""Family members: a patient's chat account acting for a parent, child or spouse, too.

A registered patient adds a family member from their own chat account: a ``ChatAccount`` row
that is not the account's own (``is_self`` false) lets the account book, cancel and get the
notices for them. First a one-time code goes by SMS (``clinic.identity_checks``): to the
mobile on record when the national code is someone's record, else to the member's mobile (or
the holder's), and the holder is told the same either way. With the right code a new member
becomes a patient of their own (``Registrar.FAMILY``, consent given through that account)
and a member on record is linked as they are (their mobile is told by SMS). The member can
take their record over later: they register in their own chat with the mobile the family
gave (``claim_by_verified_mobile``), then see and remove the other accounts acting for them
(``accounts_with_access``, ``revoke_access``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from clinic import audit, identity_checks
from clinic.errors import (
    AlreadyRegistered,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    TooManyFamilyMembers,
)
from clinic.i18n import N_, translator
from clinic.identity import parse_mobile, parse_national_code
from clinic.identity_checks import Asker, Proof
from clinic.models import ActorKind, ChatAccount, Patient, Platform, Registrar, Relation, Sex
from clinic.patients import PatientDetails, get_patient, validated

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from clinic.actors import Actor
    from clinic.link_limits import ChatUser
    from clinic.uow import UnitOfWork

MAX_MEMBERS = 8  # family members one chat account may act for
# What the member is to the account's holder, in words that follow the member's sex.
WORDS = {
    (Relation.PARENT, Sex.MALE): N_("Father"),
    (Relation.PARENT, Sex.FEMALE): N_("Mother"),
    (Relation.CHILD, Sex.MALE): N_("Son"),
    (Relation.CHILD, Sex.FEMALE): N_("Daughter"),
    (Relation.SPOUSE, Sex.MALE): N_("Husband"),
    (Relation.SPOUSE, Sex.FEMALE): N_("Wife"),
    (Relation.SIBLING, Sex.MALE): N_("Brother"),
    (Relation.SIBLING, Sex.FEMALE): N_("Sister"),
    (Relation.OTHER, Sex.MALE): N_("Family member"),
    (Relation.OTHER, Sex.FEMALE): N_("Family member"),
}
FOR = N_("For: {relation} — {name}")
UNKNOWN_RELATION = N_("Please choose how they are related to you.")
OWN_CODE = N_(
    "This is your own national code. Please write the national code of the family member you "
    "want to add."
)


class AlreadyInFamily(Conflict):
    """The account already acts for this person (its holder knows whom they added)."""

    code = "already_in_family"
    message = N_("You already book for this person here; you can find them in your family list.")


@dataclass(frozen=True)
class MemberDetails:
    """A family member as typed by the account's holder (normalised and validated here)."""

    national_code: str
    first_name: str
    last_name: str
    birth_year: str | int
    sex: str
    relation: str
    mobile: str | None = None  # None: they have no mobile of their own; the holder's is kept
    language: str = "fa"


@dataclass(frozen=True)
class Member:
    """A family member a chat account acts for, as its holder sees them."""

    patient_id: int
    first_name: str
    last_name: str
    sex: Sex
    relation: Relation

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    @property
    def word(self) -> str:
        """What they are to the holder (a msgid: father, daughter, wife…)."""
        return WORDS[(self.relation, self.sex)]


@dataclass(frozen=True)
class SharedAccess:
    """Another chat account acting for the patient: a family member's (never who they are)."""

    account_id: int
    platform: Platform
    relation: Relation  # what the patient is to that account's holder
    since: datetime


def parse_relation(raw: str) -> Relation:
    """A relation code (parent, child, spouse, sibling, other); InvalidInput otherwise."""
    try:
        return Relation(raw)
    except ValueError:
        raise InvalidInput(UNKNOWN_RELATION) from None


def label(member: Member, translate: Callable[[str], str]) -> str:
    """Whose it is, for a card, a list or a notice: "For: Father — Ali Rezaei"."""
    return translate(FOR).format(relation=translate(member.word), name=member.name)


def notice_text(text: str, account: ChatAccount, patient: Patient) -> str:
    """A notice's chat text as ``account`` gets it: on a family member's account, labelled
    with whose it is (in the patient's language, the notice's)."""
    if account.is_self:
        return text
    member = Member(
        patient.id, patient.first_name, patient.last_name, Sex(patient.sex),
        Relation(account.relation or Relation.OTHER),
    )  # fmt: skip
    return f"{label(member, translator(patient.language).gettext)}\n\n{text}"


async def _own_account(
    uow: UnitOfWork, actor: Actor, who: ChatUser, *, lock: bool = False
) -> ChatAccount:
    """The chat account's row for its holder's own record (the actor's); NotAllowed for
    anyone else (only a registered patient, on their own account, has a family here)."""
    if actor.kind is not ActorKind.PATIENT or actor.id is None:
        raise NotAllowed()
    stmt = select(ChatAccount).where(
        ChatAccount.platform == who.platform,
        ChatAccount.user_id == who.user_id,
        ChatAccount.patient_id == actor.id,
        ChatAccount.is_self.is_(True),
    )
    # Locked: two members added at once from one account are counted one after the other.
    account = await uow.session.scalar(stmt.with_for_update() if lock else stmt)
    if account is None:
        raise NotAllowed()
    return account


def _members_query(who: ChatUser) -> Select[tuple[int, str, str, Sex, Relation | None]]:
    return (
        select(
            Patient.id, Patient.first_name, Patient.last_name, Patient.sex, ChatAccount.relation
        )
        .join(ChatAccount, ChatAccount.patient_id == Patient.id)
        .where(
            ChatAccount.platform == who.platform,
            ChatAccount.user_id == who.user_id,
            ChatAccount.is_self.is_(False),
        )
        .order_by(ChatAccount.id)
    )


async def family_members(uow: UnitOfWork, who: ChatUser) -> list[Member]:
    """The family members the chat account acts for, in the order they were added."""
    rows = await uow.session.execute(_members_query(who))
    return [
        Member(pid, first, last, Sex(sex), Relation(relation or Relation.OTHER))
        for pid, first, last, sex, relation in rows.tuples()
    ]


async def member_of(uow: UnitOfWork, who: ChatUser, patient_id: int) -> Member | None:
    """The family member ``patient_id`` of the chat account; None for its own record or a
    patient it does not act for."""
    found = [m for m in await family_members(uow, who) if m.patient_id == patient_id]
    return found[0] if found else None


async def check_new_member(uow: UnitOfWork, actor: Actor, who: ChatUser, raw_code: str) -> str:
    """The national code typed for a new family member, parsed, if a member may be added
    with it: asked first, so no one answers every question to be refused at the end. Whether
    it is anyone's record is not looked at (the one-time code decides what follows).

    Raises InvalidNationalCode, NotAllowed (not the actor's own account),
    TooManyFamilyMembers, InvalidInput (the holder's own code), AlreadyInFamily.
    """
    own = await _own_account(uow, actor, who)
    code = parse_national_code(raw_code)
    await _check_room(uow, who)
    holder = await get_patient(uow, own.patient_id)
    if code == holder.national_code:
        raise InvalidInput(OWN_CODE)
    acted_for = await uow.session.scalar(
        select(ChatAccount.id)
        .join(Patient, Patient.id == ChatAccount.patient_id)
        .where(
            ChatAccount.platform == who.platform,
            ChatAccount.user_id == who.user_id,
            Patient.national_code == code,
        )
    )
    if acted_for is not None:
        raise AlreadyInFamily()
    return code


async def send_member_code(
    uow: UnitOfWork,
    actor: Actor,
    who: ChatUser,
    raw_code: str,
    mobile: str | None,
    language: str = "fa",
) -> int:
    """Send the one-time code for a family member: to the mobile on record for the national
    code, else to ``mobile`` (theirs; None: the holder's); the check's id. The holder is told
    the same in both cases.

    Raises what ``check_new_member`` raises, InvalidMobile, NoMoreCodes (commit it).
    """
    code = await check_new_member(uow, actor, who, raw_code)
    own = await _own_account(uow, actor, who)
    fallback = parse_mobile(mobile) if mobile else (await get_patient(uow, own.patient_id)).mobile
    return await identity_checks.send_code(
        uow, Asker.of_chat(who), "family", code, mobile_if_new=fallback, language=language
    )


async def _check_room(uow: UnitOfWork, who: ChatUser) -> None:
    count = await uow.session.scalar(
        select(func.count(ChatAccount.id)).where(
            ChatAccount.platform == who.platform,
            ChatAccount.user_id == who.user_id,
            ChatAccount.is_self.is_(False),
        )
    )
    if (count or 0) >= MAX_MEMBERS:
        raise TooManyFamilyMembers(count=MAX_MEMBERS)


async def add_family_member(
    uow: UnitOfWork, actor: Actor, who: ChatUser, details: MemberDetails, check_id: int
) -> Member:
    """Register a new family member of the actor, with the consent the actor gave for them
    on this chat account, and let the account act for them; ``check_id`` is the confirmed
    one-time code sent for their national code to their mobile (or the holder's).

    Raises InvalidInput (and its subclasses) for bad fields, NotAllowed (not the actor's own
    account), TooManyFamilyMembers, CheckNeeded, AlreadyRegistered (registered meanwhile).
    """
    own = await _own_account(uow, actor, who, lock=True)
    holder = await get_patient(uow, own.patient_id)
    relation = parse_relation(details.relation)
    now = uow.clock.now()
    fields = validated(_as_patient(details, holder.mobile), now)
    await _check_room(uow, who)
    code, mobile = str(fields["national_code"]), str(fields["mobile"])
    proof = Proof(Asker.of_chat(who), check_id, "family")
    await identity_checks.spend(uow, proof, code, None, mobile=mobile)
    patient = Patient(
        **fields,
        registered_by=Registrar.FAMILY,
        registered_by_id=holder.id,
        consent_at=now,
        consent_via=f"family:{own.id}",  # given by this account, for the member
        created_at=now,
        updated_at=now,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(patient)
    except IntegrityError:  # registered a moment ago (or long before): told nothing of it
        raise AlreadyRegistered() from None
    uow.session.add(
        ChatAccount(
            platform=who.platform, user_id=who.user_id, chat_id=own.chat_id,
            patient_id=patient.id, is_self=False, relation=relation, linked_at=now,
        )
    )  # fmt: skip
    await uow.session.flush()
    await audit.record(
        uow, actor, "patient.family_add", "patient", patient.id,
        account_id=own.id, relation=relation.value,
    )  # fmt: skip
    return Member(patient.id, patient.first_name, patient.last_name, patient.sex, relation)


async def link_family_member(
    uow: UnitOfWork, actor: Actor, who: ChatUser, check_id: int, raw_relation: str
) -> Member:
    """Let the account act for a family member on record, after the one-time code sent to
    their mobile; that mobile is told by SMS. Their record stays as it is.

    Raises NotAllowed, TooManyFamilyMembers, InvalidInput (the relation, the holder's own
    record), AlreadyInFamily, CheckNeeded.
    """
    own = await _own_account(uow, actor, who, lock=True)
    relation = parse_relation(raw_relation)
    await _check_room(uow, who)
    asker = Asker.of_chat(who)
    patient = await get_patient(
        uow, await identity_checks.confirmed_record(uow, asker, check_id, "family")
    )
    if patient.id == own.patient_id:
        raise InvalidInput(OWN_CODE)
    if await member_of(uow, who, patient.id) is not None:
        raise AlreadyInFamily()
    proof = Proof(asker, check_id, "family")
    check = await identity_checks.spend(uow, proof, patient.national_code, patient.id)
    now = uow.clock.now()
    uow.session.add(
        ChatAccount(
            platform=who.platform, user_id=who.user_id, chat_id=own.chat_id,
            patient_id=patient.id, is_self=False, relation=relation, linked_at=now,
        )
    )  # fmt: skip
    await uow.session.flush()
    await identity_checks.tell_record_linked(uow, check)
    await audit.record(
        uow, asker.actor, "patient.family_link", "patient", patient.id,
        account_id=own.id, relation=relation.value, evidence="sms_code", check_id=check.id,
        **asker.ids,
    )  # fmt: skip
    return Member(patient.id, patient.first_name, patient.last_name, Sex(patient.sex), relation)


def _as_patient(details: MemberDetails, holder_mobile: str) -> PatientDetails:
    return PatientDetails(
        national_code=details.national_code,
        mobile=details.mobile or holder_mobile,
        first_name=details.first_name,
        last_name=details.last_name,
        birth_year=details.birth_year,
        sex=details.sex,
        language=details.language,
    )


async def remove_family_member(
    uow: UnitOfWork, actor: Actor, who: ChatUser, patient_id: int
) -> Member:
    """Stop the chat account acting for the family member ``patient_id``: their record and
    bookings stay with the department. Raises NotAllowed, NotFound (not a member here)."""
    await _own_account(uow, actor, who)
    member = await member_of(uow, who, patient_id)
    if member is None:
        raise NotFound()
    await uow.session.execute(
        delete(ChatAccount).where(
            ChatAccount.platform == who.platform,
            ChatAccount.user_id == who.user_id,
            ChatAccount.patient_id == patient_id,
            ChatAccount.is_self.is_(False),
        )
    )
    await audit.record(uow, actor, "patient.family_remove", "patient", patient_id)
    return member


async def accounts_with_access(uow: UnitOfWork, actor: Actor, who: ChatUser) -> list[SharedAccess]:
    """The other chat accounts acting for the actor's own record (family members'), oldest
    first; asked from the actor's own account. Raises NotAllowed."""
    own = await _own_account(uow, actor, who)
    rows = await uow.session.scalars(
        select(ChatAccount)
        .where(ChatAccount.patient_id == own.patient_id, ChatAccount.is_self.is_(False))
        .order_by(ChatAccount.linked_at, ChatAccount.id)
    )
    return [
        SharedAccess(a.id, a.platform, Relation(a.relation or Relation.OTHER), a.linked_at)
        for a in rows
    ]


async def revoke_access(
    uow: UnitOfWork, actor: Actor, who: ChatUser, account_id: int
) -> SharedAccess:
    """Stop another chat account acting for the actor's own record; asked from the actor's
    own account. Raises NotAllowed, NotFound (no such account acting for them)."""
    own = await _own_account(uow, actor, who)
    found = [a for a in await accounts_with_access(uow, actor, who) if a.account_id == account_id]
    if not found:
        raise NotFound()
    await uow.session.execute(
        delete(ChatAccount).where(
            ChatAccount.id == account_id,
            ChatAccount.patient_id == own.patient_id,
            ChatAccount.is_self.is_(False),
        )
    )
    await audit.record(
        uow, actor, "patient.access_revoke", "patient", own.patient_id, account_id=account_id
    )
    return found[0]
