"""Registering a patient who has no smartphone, and finding one of the worker's patients.

The health worker's side of ``bot.registration_steps``: typed steps and presses through the
gate (``bot.gate``), the answers gathered in the worker's typed input (``WORKER_INPUT``, its
kind the step), then the privacy notice read to the patient and their consent.

After the national code and the mobile, a one-time code goes by SMS (to the mobile on record
for the national code, else to the mobile typed) with the same answer either way; the patient
beside the worker reads it out. A new record's questions follow; one on record becomes the
worker's patient as it is (its mobile is told). One of the worker's own patients needs no
code: their details are updated as before.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from bot import registration_steps as steps
from bot import routes
from bot.drafts import WORKER_INPUT
from bot.health_worker.common import back, my_patient
from bot.health_worker.patients import card_view
from bot.registration_steps import FEMALE as FEMALE
from bot.registration_steps import MALE as MALE
from bot.registration_steps import Registrar
from clinic.claims import take_on
from clinic.errors import ClinicError, NotFound
from clinic.i18n import N_
from clinic.identity import parse_national_code
from clinic.identity_checks import Asker, check_code, send_code
from clinic.patients import find_by_national_code

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import RegistrationDraft, WorkerInput
    from bot.gate import Press, Typed, View
    from bot.registration_steps import TypedField
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

ASK_NATIONAL_CODE = N_("Please write the patient's 10-digit national code.")
ASK_MOBILE = N_("Please write the patient's mobile number (like 09123456789). SMS go to it.")
ASK_FIRST_NAME = N_("Please write the patient's first name.")
ASK_LAST_NAME = N_("Please write the patient's last name.")
ASK_BIRTH_YEAR = N_("Please write the patient's year of birth (Persian calendar), like 1345.")
ASK_SEX = N_("The patient's sex (needed for the safety questions before some exams):")
CODE_SENT = N_(
    "To protect patients' records, we have sent a 5-digit code by text message to the mobile "
    "on record for this national code (for a new record, to the number you typed). Please ask "
    "the patient for it and type it here."
)
TAKEN_ON = N_("{name} is now one of your patients. The mobile on record was told by SMS.")
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
KINDS = MappingProxyType(
    {
        "national_code": "reg_nc",
        "mobile": "reg_mobile",
        "code": "reg_code",
        "first_name": "reg_first",
        "last_name": "reg_last",
        "birth_year": "reg_year",
        "sex": "reg_sex",
        "consent": "reg_consent",
    }
)


class _Worker(Registrar):
    """A health worker registering a patient: the national code first, the mobile typed, the
    one-time code, the privacy notice read to the patient after the sex; the way back to the
    menu under each."""

    order = ("national_code", "mobile", "code", *steps.FIELDS[2:], "consent")
    questions = MappingProxyType(
        {
            "national_code": ASK_NATIONAL_CODE,
            "mobile": ASK_MOBILE,
            "code": CODE_SENT,
            "first_name": ASK_FIRST_NAME,
            "last_name": ASK_LAST_NAME,
            "birth_year": ASK_BIRTH_YEAR,
            "sex": ASK_SEX,
            "consent": CONSENT,
        }
    )
    not_letters = MappingProxyType({"first_name": NAME_LETTERS, "last_name": NAME_LETTERS})
    sex_route = routes.WORKER_SEX
    code_route = routes.WORKER_CODE_AGAIN

    @property
    def asker(self) -> Asker:
        """The health worker."""
        assert self.actor.id is not None
        return Asker.health_worker(self.actor.id)

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
        """The sexes; the code sent again; the patient's consent; else the way back to the
        menu."""
        _ = self.context._
        if step == "consent":
            return back(self.context, (_(AGREES), routes.WORKER_AGREE()))
        if step == "code":
            return back(self.context, (_(steps.CODE_AGAIN), routes.WORKER_CODE_AGAIN()))
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
    """A valid national code; the mobile is asked next whether it is on record or not."""
    r = _Worker(t.context, t.actor)
    return steps.answered(r, _input(t), steps.valid(r, "national_code", t.text))


async def mobile(t: Typed) -> View:
    """The patient's mobile, typed (Persian digits fine); then the one-time code is sent
    (one of the worker's own patients: their details are asked again instead)."""
    r, state = _Worker(t.context, t.actor), _input(t)
    answer = steps.valid(r, "mobile", t.text)
    code = state.get("national_code", "")
    if await _own(t.context, t.actor, code):  # no code: their details are asked again
        state["mobile"] = answer["mobile"]
        return steps.ask(r, state, "first_name")
    try:
        async with t.context.services.uow() as uow:
            check = await steps.counted(uow, send_code(
                uow, r.asker, "health_worker", code, mobile_if_new=answer["mobile"],
                language="fa",
            ))  # fmt: skip
            await uow.commit()
    except ClinicError as error:
        return steps.refusal(error, t.context), back(t.context)
    state["mobile"] = answer["mobile"]
    state["check"], state["confirmed"] = check, False
    return steps.ask(r, state, "code")


async def code(t: Typed) -> View:
    """The code the patient read out: a record on file becomes the worker's patient, a new
    one's questions follow; wrong, tries left (the button sends a new code)."""
    r, state = _Worker(t.context, t.actor), _input(t)
    check = state.get("check")
    if not check:
        return _lost(t.context)
    try:
        async with t.context.services.uow() as uow:
            verified = await steps.counted(uow, check_code(uow, r.asker, check, t.text))
            taken = None
            if verified.patient_id is not None:
                taken = await take_on(uow, t.actor, check)
            await uow.commit()
    except ClinicError as error:
        return steps.refusal(error, t.context), r.keyboard("code")
    if taken is not None:
        WORKER_INPUT.drop(t.context)
        text, markup = await card_view(t.context, t.actor, taken.id)
        done = t.context._(TAKEN_ON).format(name=f"{taken.first_name} {taken.last_name}")
        return f"{done}\n\n{text}", markup
    state["confirmed"] = True
    return steps.ask(r, state, "first_name")


async def code_again(p: Press) -> View:
    """Send the patient a new one-time code (a minute after the last, a few a day)."""
    r, state = _Worker(p.context, p.actor), _waiting(p.context, "reg_code")
    if state is None or not state.get("check"):
        return _lost(p.context)
    return await steps.send_again(p.context, r.asker, state.get("check", 0)), r.keyboard("code")


async def _own(context: BotContext, worker: Actor, national_code: str) -> bool:
    """Whether the national code is one of the worker's own patients' (they know it)."""
    if not national_code:
        return False
    async with context.services.uow() as uow:
        existing = await find_by_national_code(uow, national_code)
    return existing is not None and existing.health_worker_id == worker.id


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
    if found is None or state is None:
        return _lost(context)
    r = _Worker(context, p.actor)
    proof = r.proof(state, "health_worker")
    if proof is None and not await _own(context, p.actor, found.national_code):
        return _lost(context)  # a new record needs the code the patient read out
    WORKER_INPUT.drop(context)
    patient = await steps.register(r, found, proof)
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
