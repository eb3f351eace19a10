"""What reception's desk booking and walk-in steps share: the draft between their steps
(``bot.drafts.DeskDraft``), the patient as reception sees them, and what the core is asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.drafts import DESK, DeskDraft
from bot.views import digits, name
from clinic.department_setup import department_setup
from clinic.errors import NotFound
from clinic.i18n import N_
from clinic.no_shows import missed_unforgiven
from clinic.patients import get_patient
from clinic.referrals import answers_by_code

if TYPE_CHECKING:
    from bot.context import BotContext
    from clinic.models import Patient
    from clinic.uow import UnitOfWork

STALE = N_("This step is no longer open. Please start again from the staff menu.")
PATIENT = N_("Patient: {name}, born {year}")
BLOCKED = N_(
    "This patient has missed {count} appointments without cancelling, so they cannot book in "
    "the chat for now. You can still book for them here, and you can lift the block."
)


def draft(context: BotContext, *needed: str) -> DeskDraft:
    """The desk draft with every field in ``needed``; NotFound (start again) otherwise."""
    found = DESK.get(context)
    if found is None or any(field not in found for field in needed):
        raise NotFound(STALE)
    return found


def patient_line(context: BotContext, patient: Patient) -> str:
    """The patient's name and birth year, to check with them."""
    return context._(PATIENT).format(
        name=f"{patient.first_name} {patient.last_name}",
        year=digits(str(patient.birth_year), context.lang),
    )


def blocked(context: BotContext, patient: Patient) -> str | None:
    """Why the patient may not book in chat for now (too many no-shows), or None."""
    limit, missed = context.services.policy.no_show_limit, missed_unforgiven(patient)
    if limit == 0 or missed <= limit:
        return None
    return context._(BLOCKED).format(count=digits(str(missed), context.lang))


@dataclass(frozen=True)
class Asked:
    """What the core is asked for, from the draft: who, which exam, and the answers by code."""

    national_code: str
    exam_code: str
    exam_name: str
    answers: dict[str, bool]


async def asked(uow: UnitOfWork, context: BotContext, found: DeskDraft) -> Asked:
    """The patient's national code, the exam's code and the answers, read back by their ids."""
    patient = await get_patient(uow, found["patient"])
    exam = (await department_setup(uow)).exam(found["exam"])
    answers = await answers_by_code(uow, found.get("answers", {}))
    return Asked(patient.national_code, exam.code, name(exam, context.lang), answers)
