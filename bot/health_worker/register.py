"""Registering a patient who has no smartphone, and finding one of the worker's patients."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jdatetime

from bot import routes
from bot.handlers.common import explain
from bot.health_worker.common import INPUT, ask, back, my_patient
from bot.health_worker.patients import card_view
from bot.keyboards import choices
from clinic.errors import InvalidInput, NotAllowed, NotFound
from clinic.i18n import N_
from clinic.identity import parse_mobile, parse_national_code
from clinic.jalali import to_tehran
from clinic.patients import (
    PatientDetails,
    find_by_national_code,
    parse_birth_year,
    register_patient,
)

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View

ASK_NATIONAL_CODE = N_("Please write the patient's 10-digit national code.")
ASK_MOBILE = N_("Please write the patient's mobile number (like 09123456789). SMS go to it.")
ASK_FIRST_NAME = N_("Please write the patient's first name.")
ASK_LAST_NAME = N_("Please write the patient's last name.")
ASK_BIRTH_YEAR = N_("Please write the patient's year of birth (Persian calendar), like 1345.")
ASK_SEX = N_("The patient's sex (needed for the safety questions before some exams):")
FEMALE, MALE = N_("Female"), N_("Male")
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
FIELDS = ("national_code", "mobile", "first_name", "last_name", "birth_year", "sex")


async def start(p: Press) -> View:
    """Begin registering: the national code first."""
    ask(p.context, "reg_nc")
    return p.context._(ASK_NATIONAL_CODE), back(p.context)


async def national_code(t: Typed) -> View:
    """A valid national code not already registered with someone else."""
    code = parse_national_code(t.text)
    async with t.context.services.uow() as uow:
        existing = await find_by_national_code(uow, code)
    if existing is not None and existing.health_worker_id != t.actor.id:
        # The clinic says the same when registering: the worker may type another code.
        taken = NotAllowed(TAKEN)
        return explain(taken, t.context), back(t.context)
    ask(t.context, "reg_mobile", national_code=code)
    return t.context._(ASK_MOBILE), back(t.context)


async def mobile(t: Typed) -> View:
    """The patient's mobile, typed (Persian digits fine)."""
    ask(t.context, "reg_first", mobile=parse_mobile(t.text))
    return t.context._(ASK_FIRST_NAME), back(t.context)


async def first_name(t: Typed) -> View:
    """The first name."""
    ask(t.context, "reg_last", first_name=_letters(t.text))
    return t.context._(ASK_LAST_NAME), back(t.context)


async def last_name(t: Typed) -> View:
    """The last name."""
    ask(t.context, "reg_year", last_name=_letters(t.text))
    return t.context._(ASK_BIRTH_YEAR), back(t.context)


def _letters(text: str) -> str:
    text = text.strip()
    if not text or len(text) > 80 or any(ch.isdigit() for ch in text):
        raise InvalidInput(NAME_LETTERS, n=80)
    return text


async def birth_year(t: Typed) -> View:
    """The Jalali birth year, then the sex buttons."""
    now = to_tehran(t.context.services.clock.now()).date()
    year = parse_birth_year(t.text, jdatetime.date.fromgregorian(date=now).year)
    ask(t.context, "reg_sex", birth_year=year)
    buttons = [
        (t.context._(FEMALE), routes.WORKER_SEX("female")),
        (t.context._(MALE), routes.WORKER_SEX("male")),
    ]
    return t.context._(ASK_SEX), choices(buttons, columns=2)


async def sex(p: Press) -> View | None:
    """Keep the sex and read the privacy notice to the patient."""
    state = p.context.data.get(INPUT) or {}
    if state.get("kind") != "reg_sex" or p.choice.args not in (("female",), ("male",)):
        return _lost(p.context)
    ask(p.context, "reg_consent", sex=p.choice.args[0])
    return p.context._(CONSENT), back(p.context, (p.context._(AGREES), routes.WORKER_AGREE()))


async def agree(p: Press) -> View:
    """The patient agreed (to the worker): register them as the worker's patient."""
    context = p.context
    state = context.data.get(INPUT) or {}
    if state.get("kind") != "reg_consent" or not set(FIELDS) <= state.keys():
        return _lost(context)
    details = PatientDetails(**{f: state[f] for f in FIELDS}, language="fa")
    context.data.pop(INPUT, None)
    async with context.services.uow() as uow:
        patient = await register_patient(uow, p.actor, details, consent=True)
        await uow.commit()
    text, markup = await card_view(context, p.actor, patient.id)
    done = context._(REGISTERED).format(name=f"{patient.first_name} {patient.last_name}")
    return f"{done}\n\n{text}", markup


def _lost(context: BotContext) -> View:
    context.data.pop(INPUT, None)
    return context._(LOST), back(context)


async def find_start(p: Press) -> View:
    """Ask for the national code of the patient to find."""
    ask(p.context, "find")
    return p.context._(ASK_FIND), back(p.context)


async def find(t: Typed) -> View:
    """One of the worker's own patients by national code; anyone else is not found."""
    code = parse_national_code(t.text)
    async with t.context.services.uow() as uow:
        patient = await find_by_national_code(uow, code)
        if patient is None:
            raise NotFound()
        await my_patient(uow, t.actor, patient.id)
    t.context.data.pop(INPUT, None)
    return await card_view(t.context, t.actor, patient.id)
