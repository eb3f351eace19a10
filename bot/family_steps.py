"""What adding a family member asks, in which order, with which buttons, and what it keeps.

The account holder's side of ``bot.registration_steps`` (the same checks: Persian and Arabic
digits fine): the national code, their own mobile (or none), the one-time SMS code, then for a
new record their details; the relation and the holder's consent for them last.
``bot.conversations.family`` routes the answers.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from bot import routes
from bot.drafts import FAMILY
from bot.gate import patient
from bot.keyboards import choices
from bot.registration_steps import Registrar
from bot.whose import chat_user
from clinic.family import WORDS, MemberDetails
from clinic.i18n import N_
from clinic.identity_checks import Asker
from clinic.models import Relation, Sex

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import FamilyDraft, RegistrationDraft
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

ORDER = (
    "national_code", "mobile", "code", "first_name", "last_name", "birth_year", "sex",
    "relation", "consent",
)  # fmt: skip
ASK_NATIONAL_CODE = N_(
    "Each family member is registered with their own national code. Please write the 10-digit "
    "national code of the person you want to add."
)
ASK_FIRST_NAME = N_("Please write their first name.")
ASK_LAST_NAME = N_("Please write their last name.")
ASK_BIRTH_YEAR = N_("Please write their year of birth (Persian calendar), like 1335.")
ASK_SEX = N_("Their sex (needed for the safety questions before some exams):")
ASK_RELATION = N_("What is this person to you?")
ASK_MOBILE = N_(
    "Please write their own mobile number (like 09123456789). With it they can later use the "
    "bot from their own phone, and text messages reach them if the chat cannot. If they have "
    "no mobile, press the button."
)
NO_MOBILE = N_("They have no mobile")
CODE_SENT = N_(
    "To protect patients' records, we have sent a 5-digit code by text message to the mobile "
    "on record for this national code (for a new record, to the number you gave, or to yours "
    "if they have none). Please ask them for it and type it here."
)
ASK_CONSENT = N_(
    "Privacy: we keep their national code, mobile number, name, birth year and referrals only "
    "to book and run their exams, and we share them with no one outside the hospital.\n\n"
    "Please press the button only if they (or you, as their guardian) agree, and they want "
    "you to book for them from this account."
)
AGREES = N_("✅ They agree")
NAME_LETTERS = N_("Please write the name in letters (at most {n}).")
RELATIONS = (Relation.PARENT, Relation.CHILD, Relation.SPOUSE, Relation.SIBLING, Relation.OTHER)


class Holder(Registrar):
    """The account's holder adding a family member: the draft under ``FAMILY``, the relation
    and mobile asked after the sex, the holder's consent for them last."""

    order = ORDER
    questions = MappingProxyType(
        {
            "national_code": ASK_NATIONAL_CODE,
            "code": CODE_SENT,
            "first_name": ASK_FIRST_NAME,
            "last_name": ASK_LAST_NAME,
            "birth_year": ASK_BIRTH_YEAR,
            "sex": ASK_SEX,
            "relation": ASK_RELATION,
            "mobile": ASK_MOBILE,
            "consent": ASK_CONSENT,
        }
    )
    not_letters = MappingProxyType({"first_name": NAME_LETTERS, "last_name": NAME_LETTERS})
    sex_route = routes.FAMILY_SEX
    code_route = routes.FAMILY_CODE_AGAIN

    def __init__(self, context: BotContext, actor: Actor) -> None:
        super().__init__(context, actor)
        self.draft: FamilyDraft = {}

    @property
    def asker(self) -> Asker:
        """The holder's chat account."""
        return Asker.of_chat(chat_user(self.context))

    def store(self, draft: RegistrationDraft, _step: str) -> None:
        """Kept in the holder's data; the conversation's state is the step."""
        self.draft = FAMILY.put(self.context, _family(draft))

    def forget(self) -> None:
        """The draft goes."""
        FAMILY.drop(self.context)

    def keyboard(self, step: str) -> InlineKeyboardMarkup | None:
        """The sexes, the relations (in words of their sex), no mobile, the consent."""
        _ = self.context._
        if step == "relation":
            sex = Sex(self.draft.get("sex", Sex.MALE))
            items = [(_(WORDS[(r, sex)]), routes.FAMILY_RELATION(r.value)) for r in RELATIONS]
            return choices(items, columns=2)
        if step == "mobile":
            return choices([(_(NO_MOBILE), routes.FAMILY_NO_MOBILE())])
        if step == "consent":
            return choices([(_(AGREES), routes.FAMILY_AGREE())])
        return super().keyboard(step)

    async def registered(self, uow: UnitOfWork, patient_id: int) -> None:
        """Nothing: ``add_family_member`` links this account itself."""


def _family(draft: RegistrationDraft) -> FamilyDraft:
    """The draft as the family's (a FamilyDraft is a RegistrationDraft with two keys more)."""
    return cast("FamilyDraft", draft)


def holder(context: BotContext) -> Holder | None:
    """The registered patient of this chat adding a member; None for anyone else."""
    actor = patient(context)
    if actor is None:
        return None
    r = Holder(context, actor)
    r.draft = FAMILY.get(context) or {}
    return r


def details(draft: FamilyDraft, language: str) -> MemberDetails | None:
    """Everything gathered, as the clinic core adds it; None when something is missing."""
    needed = {"national_code", "first_name", "last_name", "birth_year", "sex", "relation"}
    if not needed <= draft.keys() or not ("mobile" in draft or draft.get("no_mobile")):
        return None
    return MemberDetails(
        national_code=draft["national_code"],
        first_name=draft["first_name"],
        last_name=draft["last_name"],
        birth_year=draft["birth_year"],
        sex=draft["sex"],
        relation=draft["relation"],
        mobile=None if draft.get("no_mobile") else draft.get("mobile"),
        language=language,
    )
