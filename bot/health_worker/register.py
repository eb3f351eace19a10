"""Registering a patient who has no smartphone, and finding one of the worker's patients.

The health worker's side of ``bot.registration_steps``: typed steps and presses through the
gate (``bot.gate``), the answers gathered in the worker's typed input (``WORKER_INPUT``, its
kind the step), then the privacy notice read to the patient and their consent.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from bot import registration_steps as steps
from bot import routes
from bot.drafts import WORKER_INPUT
from bot.handlers.common import explain
from bot.health_worker.common import back, my_patient
from bot.health_worker.patients import card_view
from bot.registration_steps import FEMALE as FEMALE
from bot.registration_steps import MALE as MALE
from bot.registration_steps import Registrar
from clinic.errors import NotAllowed, NotFound
from clinic.i18n import N_
from clinic.identity import parse_national_code
from clinic.patients import find_by_national_code

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import RegistrationDraft, WorkerInput
    from bot.gate import Press, Typed, View
    from bot.registration_steps import TypedField
    from clinic.uow import UnitOfWork

ASK_NATIONAL_CODE = N_("Please write the patient's 10-digit national code.")
ASK_MOBILE = N_("Please write the patient's mobile number (like 09123456789). SMS go to it.")
ASK_FIRST_NAME = N_("Please write the patient's first name.")
ASK_LAST_NAME = N_("Please write the patient's last name.")
ASK_BIRTH_YEAR = N_("Please write the patient's year of birth (Persian calendar), like 1345.")
ASK_SEX = N_("The patient's sex (needed for the safety questions before some exams):")
CONSENT = N_(
    "Please read this to the patient:\n\n"
    "We keep your national code, mobile number, name, birth year and referral only to book and "
    "run your exams, and we share them with no one outside the hospital. Our text messages "
    "never carry medical details.\n\n"
    "Press the button when the patient agrees."
)
AGREES = N_("✅ The patient agrees")
REGISTERED = N_("{name} is registered.")
ASK_FIND = N_("Please write the national code of one of your patients.")
NAME_LETTERS = N_("Please write the name in letters (at most {n}).")
LOST = N_("Sorry, I lost part of the answers. Please start again from the menu.")
TAKEN = N_("This patient is registered with someone else. Please call the department.")
KINDS = MappingProxyType(
    {
        "national_code": "reg_nc",
        "mobile": "reg_mobile",
        "first_name": "reg_first",
        "last_name": "reg_last",
        "birth_year": "reg_year",
        "sex": "reg_sex",
        "consent": "reg_consent",
    }
)


class _Worker(Registrar):
    """A health worker registering a patient: the national code first, the mobile typed, the
    privacy notice read to the patient after the sex; the way back to the menu under each."""

    order = (*steps.FIELDS, "consent")
    questions = MappingProxyType(
        {
            "national_code": ASK_NATIONAL_CODE,
            "mobile": ASK_MOBILE,
            "first_name": ASK_FIRST_NAME,
            "last_name": ASK_LAST_NAME,
            "birth_year": ASK_BIRTH_YEAR,
            "sex": ASK_SEX,
            "consent": CONSENT,
        }
    )
    not_letters = MappingProxyType({"first_name": NAME_LETTERS, "last_name": NAME_LETTERS})
    sex_route = routes.WORKER_SEX

    def store(self, draft: RegistrationDraft, step: str) -> None:
        """Kept as the worker's typed input, its kind the step."""
        # The registration's fields and its kind: a WorkerInput (mypy cannot tell that a
        # RegistrationDraft holds none of a request's keys).
        state = {**draft, "kind": KINDS[step]}
        WORKER_INPUT.put(self.context, cast("WorkerInput", state))

    def forget(self) -> None:
        """The input goes."""
        WORKER_INPUT.drop(self.context)

    def keyboard(self, step: str) -> InlineKeyboardMarkup | None:
        """The sexes; the patient's consent; else the way back to the menu."""
        if step == "consent":
            return back(self.context, (self.context._(AGREES), routes.WORKER_AGREE()))
        return super().keyboard(step) if step == "sex" else back(self.context)

    async def registered(self, uow: UnitOfWork, patient_id: int) -> None:
        """Nothing more: the patient is the worker's (``register_patient``)."""


def _input(t: Typed) -> WorkerInput:
    """The typed step's state: the worker's input (the gate keeps it as plain data)."""
    return cast("WorkerInput", t.state)


def _waiting(context: BotContext, kind: str) -> WorkerInput | None:
    """The worker's input when it waits for ``kind``."""
    state = WORKER_INPUT.get(context)
    return state if state is not None and state.get("kind") == kind else None


async def start(p: Press) -> View:
    """Begin registering: the national code first."""
    return steps.ask(_Worker(p.context, p.actor), {}, "national_code")


async def national_code(t: Typed) -> View:
    """A valid national code not already registered with someone else."""
    r = _Worker(t.context, t.actor)
    answer = steps.valid(r, "national_code", t.text)
    async with t.context.services.uow() as uow:
        existing = await find_by_national_code(uow, answer["national_code"])
    if existing is not None and existing.health_worker_id != t.actor.id:
        # The clinic says the same when registering: the worker may type another code.
        taken = NotAllowed(TAKEN)
        return explain(taken, t.context), back(t.context)
    return steps.answered(r, _input(t), answer)


async def mobile(t: Typed) -> View:
    """The patient's mobile, typed (Persian digits fine)."""
    return _take(t, "mobile")


async def first_name(t: Typed) -> View:
    """The first name."""
    return _take(t, "first_name")


async def last_name(t: Typed) -> View:
    """The last name."""
    return _take(t, "last_name")


async def birth_year(t: Typed) -> View:
    """The Jalali birth year, then the sex buttons."""
    return _take(t, "birth_year")


def _take(t: Typed, field: TypedField) -> View:
    return steps.take(_Worker(t.context, t.actor), _input(t), field, t.text)


async def sex(p: Press) -> View | None:
    """Keep the sex and read the privacy notice to the patient."""
    state, chosen = _waiting(p.context, "reg_sex"), steps.sex_of(p.args.word(0))
    if state is None or chosen is None:
        return _lost(p.context)
    return steps.answered(_Worker(p.context, p.actor), state, {"sex": chosen})


async def agree(p: Press) -> View:
    """The patient agreed (to the worker): register them as the worker's patient."""
    context, state = p.context, _waiting(p.context, "reg_consent")
    found = steps.details(state, "fa") if state is not None else None
    if found is None:
        return _lost(context)
    WORKER_INPUT.drop(context)
    patient = await steps.register(_Worker(context, p.actor), found)
    text, markup = await card_view(context, p.actor, patient.id)
    done = context._(REGISTERED).format(name=f"{patient.first_name} {patient.last_name}")
    return f"{done}\n\n{text}", markup


def _lost(context: BotContext) -> View:
    WORKER_INPUT.drop(context)
    return context._(LOST), back(context)


async def find_start(p: Press) -> View:
    """Ask for the national code of the patient to find."""
    WORKER_INPUT.put(p.context, {"kind": "find"})
    return p.context._(ASK_FIND), back(p.context)


async def find(t: Typed) -> View:
    """One of the worker's own patients by national code; anyone else is not found."""
    code = parse_national_code(t.text)
    async with t.context.services.uow() as uow:
        patient = await find_by_national_code(uow, code)
        if patient is None:
            raise NotFound()
        await my_patient(uow, t.actor, patient.id)
    WORKER_INPUT.drop(t.context)
    return await card_view(t.context, t.actor, patient.id)
