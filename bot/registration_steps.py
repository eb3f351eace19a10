"""Registering a patient, answer by answer: national code, mobile, first and last name, birth
year and sex, each validated (Persian and Arabic digits fine), then registered through the
clinic core with the patient's consent.

The steps the patient (on their own phone) and a health worker (for a patient without one)
share, as ``bot.booking_steps`` does for booking: a ``Registrar`` says who registers, in which
order the questions come and how each is put, which route the sex buttons use and where the
draft (``bot.drafts.RegistrationDraft``) lives; each mode's module shows the views.

Every mode asks for the one-time SMS code (``clinic.identity_checks``) after the national code
(and the mobile, where it is typed): the same question whether the national code is on record
or not, with a button to send the code again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Literal, TypeVar

import jdatetime
from telegram import InlineKeyboardMarkup

from bot.keyboards import choices
from clinic.errors import ClinicError
from clinic.i18n import N_
from clinic.identity import parse_mobile, parse_national_code
from clinic.identity_checks import CodePaused, Proof, resend
from clinic.jalali import format_datetime, to_tehran
from clinic.patients import PatientDetails, parse_birth_year, parse_name, register_patient

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from bot.context import BotContext
    from bot.drafts import RegistrationDraft
    from bot.routes import Route
    from clinic.actors import Actor
    from clinic.identity_checks import Asker
    from clinic.models import Patient
    from clinic.uow import UnitOfWork

TypedField = Literal["national_code", "mobile", "first_name", "last_name", "birth_year"]
FIELDS = ("national_code", "mobile", "first_name", "last_name", "birth_year", "sex")
SEXES = ("female", "male")
FEMALE, MALE = N_("Female"), N_("Male")
CODE_AGAIN = N_("🔁 Send the code again")
SENT_AGAIN = N_("We have sent a new code by text message. Please type the newest one.")

View = tuple[str, InlineKeyboardMarkup | None]


class Registrar(ABC):
    """Who registers the patient, and what differs between the modes.

    A subclass sets ``order`` (the steps in the order asked: the fields, then whatever its mode
    asks after them), each step's question, the refusal of a name not in letters and the route
    of the sex buttons, and keeps the draft where its mode keeps it. ``asking`` is the step
    the registration waits for after the last one (None: it ended), for a mode that routes by it.
    """

    order: tuple[str, ...]
    questions: Mapping[str, str]  # a step → its question (a msgid)
    not_letters: Mapping[str, str]  # first_name, last_name → the refusal, with {n}
    sex_route: Route
    code_route: Route  # the button that sends the one-time code again

    def __init__(self, context: BotContext, actor: Actor) -> None:
        self.context, self.actor = context, actor
        self.asking: str | None = None

    @abstractmethod
    def store(self, draft: RegistrationDraft, step: str) -> None:
        """Keep ``draft`` where this mode keeps it, waiting for ``step``."""

    @abstractmethod
    def forget(self) -> None:
        """Drop the draft."""

    def keep(self, draft: RegistrationDraft, step: str) -> None:
        """The registration now waits for ``step`` with ``draft``."""
        self.asking = step
        self.store(draft, step)

    def drop(self) -> None:
        """The registration ends: its draft goes."""
        self.asking = None
        self.forget()

    @property
    @abstractmethod
    def asker(self) -> Asker:
        """Who asks for the one-time codes (the limits count them)."""

    def proof(self, draft: RegistrationDraft, purpose: str) -> Proof | None:
        """The confirmed one-time code in ``draft``, as the clinic core takes it."""
        check = draft.get("check")
        if check is None or not draft.get("confirmed"):
            return None
        return Proof(self.asker, check, purpose)

    def keyboard(self, step: str) -> InlineKeyboardMarkup | None:
        """The buttons under the question for ``step``: the sexes, the code sent again, else
        none."""
        _ = self.context._
        if step == "code":
            return choices([(_(CODE_AGAIN), self.code_route())])
        if step != "sex":
            return None
        buttons = [(_(FEMALE), self.sex_route("female")), (_(MALE), self.sex_route("male"))]
        return choices(buttons, columns=2)

    @abstractmethod
    async def registered(self, uow: UnitOfWork, patient_id: int) -> None:
        """What else registering the patient does, in the same transaction."""


def question(r: Registrar, step: str) -> View:
    """The question for ``step`` and its buttons (the draft left as it is)."""
    return r.context._(r.questions[step]), r.keyboard(step)


def ask(r: Registrar, draft: RegistrationDraft, step: str) -> View:
    """Wait for ``step`` with ``draft``: its question."""
    r.keep(draft, step)
    return question(r, step)


def valid(r: Registrar, field: TypedField, text: str) -> RegistrationDraft:
    """The typed answer for ``field``, checked and normalised: ``{field: value}``.

    Raises InvalidInput (a malformed national code or mobile, a name with digits, a birth year
    out of range).
    """
    if field == "national_code":
        return {"national_code": parse_national_code(text)}
    if field == "mobile":
        return {"mobile": parse_mobile(text)}
    if field == "birth_year":
        return {"birth_year": parse_birth_year(text, this_year(r.context))}
    if field == "first_name":
        return {"first_name": parse_name(text, r.not_letters[field])}
    return {"last_name": parse_name(text, r.not_letters[field])}


def this_year(context: BotContext) -> int:
    """The Jalali year now in Tehran."""
    now = to_tehran(context.services.clock.now()).date()
    return int(jdatetime.date.fromgregorian(date=now).year)


async def counted(uow: UnitOfWork, step: Awaitable[T]) -> T:
    """Run a step of the one-time code and commit when it refuses: the refusal is counted
    (and audited) all the same."""
    try:
        return await step
    except ClinicError:
        await uow.commit()
        raise


async def send_again(context: BotContext, asker: Asker, check: int) -> str:
    """Send a new one-time code for ``check`` ("Send the code again"); what to tell the user:
    that it went, or why not (a minute not yet passed, no more today: counted all the same)."""
    try:
        async with context.services.uow() as uow:
            await counted(uow, resend(uow, asker, check))
            await uow.commit()
    except ClinicError as error:
        return refusal(error, context)
    return context._(SENT_AGAIN)


def refusal(error: ClinicError, context: BotContext) -> str:
    """A clinic error in the user's words; a pause's end in Tehran time (Jalali, Persian
    digits for fa)."""
    if isinstance(error, CodePaused):
        return context._(error.message).format(until=format_datetime(error.until, context.lang))
    return error.render(context._, persian_digits=context.lang == "fa")


def answered(r: Registrar, draft: RegistrationDraft, answer: RegistrationDraft) -> View:
    """Keep ``answer`` (one field) and ask the step after it."""
    draft.update(answer)
    (field,) = answer
    return ask(r, draft, r.order[r.order.index(field) + 1])


def take(r: Registrar, draft: RegistrationDraft, field: TypedField, text: str) -> View:
    """Check the typed answer for ``field``, keep it and ask the next step (InvalidInput)."""
    return answered(r, draft, valid(r, field, text))


def sex_of(word: str | None) -> str | None:
    """The sex pressed, or None when the press carries none."""
    return word if word in SEXES else None


def details(draft: RegistrationDraft, language: str) -> PatientDetails | None:
    """Everything gathered, as the clinic core registers it; None when a field is missing."""
    if not set(FIELDS) <= draft.keys():
        return None
    return PatientDetails(
        national_code=draft["national_code"],
        mobile=draft["mobile"],
        first_name=draft["first_name"],
        last_name=draft["last_name"],
        birth_year=draft["birth_year"],
        sex=draft["sex"],
        language=language,
    )


async def register(r: Registrar, found: PatientDetails, proof: Proof | None) -> Patient:
    """Register the patient, who consented, as ``r.actor``, with the confirmed one-time code
    ``proof``. Raises ClinicError (a national code registered meanwhile, the code's
    confirmation expired, say)."""
    async with r.context.services.uow() as uow:
        patient = await register_patient(uow, r.actor, found, consent=True, proof=proof)
        await r.registered(uow, patient.id)
        await uow.commit()
    return patient
