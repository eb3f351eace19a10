"""A new request (a referral): modality, exam, safety questions, the e-prescription's tracking
code or a photo or file of the paper one, insurer, then submitted through the clinic core.

The steps a patient (for themself) and a health worker (for one of their patients) share, as
``bot.booking_steps`` does for booking: a ``Requester`` says who acts, which routes the buttons
use, where the draft (``bot.drafts.RequestDraft``) lives and how a question is put; each
mode's module (``bot.conversations.request``, ``bot.health_worker.request``) shows the views.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot import routes
from bot.handlers.common import explain
from bot.keyboards import choices, paged
from bot.prescriptions import fetch_prescription, stored_file
from bot.views import MODALITY_NAMES, digits, name
from clinic import sites
from clinic.catalogue import exams_for_modality
from clinic.centres import centres_for, sites_doing
from clinic.department_setup import department_setup
from clinic.errors import NotFound, TrackingCodeInUse
from clinic.i18n import N_
from clinic.jalali import format_day_short
from clinic.models import Insurer
from clinic.open_referrals import check_may_request
from clinic.referrals import (
    ReferralRequest,
    answers_by_code,
    is_blocking,
    parse_tracking_code,
    screening_for,
    submit_referral,
)

if TYPE_CHECKING:
    from telegram import Message

    from bot.context import BotContext
    from bot.drafts import RequestDraft
    from bot.routes import Route
    from clinic.actors import Actor
    from clinic.errors import ClinicError
    from clinic.models import Patient, Referral
    from clinic.setup_views import QuestionView
    from clinic.uow import UnitOfWork

CHOOSE_EXAM = N_("Which exam?")
CHOOSE_CENTRE = N_("Several centres do this exam. Which one? Each with its earliest free day:")
CENTRE_LINE = N_("{name} — earliest: {when}\n{address}")
NO_FREE_DAY = N_("no free day soon")
NO_EXAMS = N_("There are no exams of this kind to book through the bot right now.")
YES, NO = N_("Yes"), N_("No")
ASK_SOURCE = N_(
    "Please type the e-prescription tracking code, or send a photo (or PDF) of the paper "
    "prescription."
)
INSURERS = {
    Insurer.TAMIN: N_("Tamin Ejtemaei (social security)"),
    Insurer.SALAMAT: N_("Salamat (Iran Health Insurance)"),
    Insurer.ARMED_FORCES: N_("Armed forces"),
    Insurer.OTHER: N_("Other insurance"),
    Insurer.NONE: N_("No insurance"),
}
MORE, BACK = N_("More ›"), N_("‹ Back")

Button = tuple[str, str]
View = tuple[str, InlineKeyboardMarkup | None]


class Stage(Enum):
    """Where a request waits for the person's next answer."""

    MODALITY = "modality"  # a modality to choose
    EXAM = "exam"  # an exam of the modality to choose
    CENTRE = "centre"  # a centre to choose, where several do the exam
    SCREENING = "screening"  # a safety question to answer
    SOURCE = "source"  # the tracking code to type, or the prescription to send
    INSURER = "insurer"  # the insurer to choose


@dataclass(frozen=True)
class RequestRoutes:
    """The buttons of the request steps, each requester under its own codes."""

    modality: Route  # a modality's exams: (scope…, modality code, page)
    exam: Route  # the exam chosen: (scope…, exam id)
    screening: Route  # a safety answer: (question id, 1 or 0)
    insurer: Route  # the insurer: (an Insurer value)
    centre: Route  # the centre chosen: (site id)


PATIENT_ROUTES = RequestRoutes(
    routes.MODALITY, routes.EXAM, routes.SCREENING, routes.INSURER, routes.CENTRE
)
WORKER_ROUTES = RequestRoutes(
    routes.WORKER_MODALITY, routes.WORKER_EXAM, routes.WORKER_SCREENING, routes.WORKER_INSURER,
    routes.WORKER_CENTRE,
)  # fmt: skip


class Requester(ABC):
    """Who sends the request for ``patient_id``, and what differs between the modes.

    A subclass sets ``routes`` and the three texts that speak to the person (you, or the
    patient), reads the patient as the actor may see them, keeps the draft where its mode keeps
    it, and may add ways out. ``stage`` is where the request waits after the last step (None:
    it ended), for a mode that routes by it.
    """

    routes: RequestRoutes
    choose_modality: str  # the first question
    blocked: str  # why an answer ends the request, with {phone}
    ask_insurer: str

    def __init__(self, context: BotContext, actor: Actor, patient_id: int) -> None:
        self.context, self.actor, self.patient_id = context, actor, patient_id
        self.stage: Stage | None = None

    @property
    def scope(self) -> tuple[int, ...]:
        """What the modality and exam buttons carry before their own arguments."""
        return ()

    @abstractmethod
    async def patient(self, uow: UnitOfWork) -> Patient:
        """The patient the request is for, as the actor may see them (else NotFound)."""

    async def county(self, uow: UnitOfWork) -> str | None:
        """The county whose centres come first (the patient's, as far as it is known)."""
        return (await self.patient(uow)).county

    @abstractmethod
    def store(self, draft: RequestDraft, stage: Stage) -> None:
        """Keep ``draft`` where this mode keeps it, waiting at ``stage``."""

    @abstractmethod
    def forget(self) -> None:
        """Drop the draft."""

    def keep(self, draft: RequestDraft, stage: Stage) -> None:
        """The request now waits at ``stage`` with ``draft``."""
        self.stage = stage
        self.store(draft, stage)

    def drop(self) -> None:
        """The request ends: its draft goes."""
        self.stage = None
        self.forget()

    def leave(self) -> list[Button]:
        """Buttons under the modalities."""
        return []

    def to_modalities(self) -> list[Button]:
        """Buttons under a modality's exams."""
        return []

    def question(self, text: str) -> str:
        """A safety question as put to the person."""
        return text

    def waiting(self) -> InlineKeyboardMarkup | None:
        """The keyboard under a question answered by typing (or ending the request)."""
        return None


async def begin(r: Requester) -> View:
    """A fresh request, if the patient may have one now (else ClinicError): the kinds of
    imaging to choose from."""
    async with r.context.services.uow() as uow:
        await r.patient(uow)
        await check_may_request(uow, r.actor, r.patient_id)  # before any question
    r.keep({}, Stage.MODALITY)
    _ = r.context._
    buttons = [
        (_(label), r.routes.modality(*r.scope, code)) for code, label in MODALITY_NAMES.items()
    ]
    return _(r.choose_modality), choices(buttons, columns=2, extra=r.leave())


async def exams(r: Requester, code: str, page: int) -> View | None:
    """A page of the modality's exams; None when ``code`` is no modality (a forged press)."""
    if code not in MODALITY_NAMES:
        return None
    context = r.context
    async with context.services.uow() as uow:
        await r.patient(uow)
        found = await exams_for_modality(uow, code)
    back = r.to_modalities()
    if not found:
        r.stage = Stage.MODALITY
        return context._(NO_EXAMS), choices([], extra=back) if back else None
    r.stage = Stage.EXAM
    items = [(name(e, context.lang), r.routes.exam(*r.scope, e.id)) for e in found]
    more, earlier = context._(MORE), context._(BACK)
    markup = paged(
        items, page, r.routes.modality, *r.scope, code, more=more, back=earlier, extra=back
    )
    return context._(CHOOSE_EXAM), markup


async def choose_exam(r: Requester, exam_id: int) -> View:
    """Remember the exam; its first safety question for this patient, or the prescription.

    Raises ClinicError (a Refusal when the patient may not have this exam now), the draft as
    it was.
    """
    async with r.context.services.uow() as uow:
        await r.patient(uow)
        await check_may_request(uow, r.actor, r.patient_id, exam_id)
        questions = await screening_for(uow, exam_id, r.patient_id)
        several = await sites_doing(uow, exam_id) > 1
    draft: RequestDraft = {
        "exam_id": exam_id,
        "questions": [q.id for q in questions],
        "answers": {},
    }
    return await centres(r, draft) if several else await ask_next(r, draft)


async def centres(r: Requester, draft: RequestDraft) -> View:
    """The centres that do the exam, each with its earliest free day: the patient's county
    first, then the earliest."""
    context, lang = r.context, r.context.lang
    async with context.services.uow().reading() as uow:
        found = await centres_for(uow, draft["exam_id"], await r.county(uow))
    r.keep(draft, Stage.CENTRE)
    lines, buttons = [context._(CHOOSE_CENTRE)], []
    for c in found:
        when = format_day_short(c.earliest, lang) if c.earliest else context._(NO_FREE_DAY)
        lines.append(context._(CENTRE_LINE).format(
            name=c.site.name(lang), when=when, address=c.site.details.text("address", lang),
        ))  # fmt: skip
        buttons.append((f"{c.site.name(lang)} · {when}", r.routes.centre(c.site.id)))
    return "\n\n".join(lines), choices(buttons)


async def choose_centre(r: Requester, draft: RequestDraft, site_id: int) -> View | None:
    """Keep the centre chosen, then the safety questions; None when the exam is not done there
    (an old or forged button)."""
    async with r.context.services.uow().reading() as uow:
        found = await centres_for(uow, draft["exam_id"]) if "exam_id" in draft else []
    if site_id not in {c.site.id for c in found}:
        return None
    draft["site_id"] = site_id
    return await ask_next(r, draft)


async def ask_next(r: Requester, draft: RequestDraft) -> View:
    """The next safety question not answered yet or, when none is left, the prescription."""
    context, answers = r.context, draft.get("answers", {})
    pending = [q for q in draft.get("questions", []) if str(q) not in answers]
    if not pending:
        r.keep(draft, Stage.SOURCE)
        return context._(ASK_SOURCE), r.waiting()
    r.keep(draft, Stage.SCREENING)
    async with context.services.uow() as uow:
        question = (await department_setup(uow)).questions[pending[0]]
    buttons = [
        (context._(YES), r.routes.screening(question.id, 1)),
        (context._(NO), r.routes.screening(question.id, 0)),
    ]
    return r.question(_text(question, context.lang)), choices(buttons, columns=2)


def _text(question: QuestionView, lang: str) -> str:
    return question.text_fa if lang == "fa" else question.text_en


@dataclass(frozen=True)
class Answered:
    """A safety answer kept: the question with the answer given, and why the request ends
    here for the patient's safety (whom to call), if it does."""

    said: str
    blocked: str | None


async def answer(
    r: Requester, draft: RequestDraft, question_id: int, value: int
) -> Answered | None:
    """Keep the answer ``value`` (1 yes, 0 no) to a question of the draft; an answer that rules
    the exam out ends the request. None when the draft does not ask that question (an old or
    forged button); NotFound when ``value`` is no answer.
    """
    if question_id not in draft.get("questions", []):
        return None
    if value not in (0, 1):
        raise NotFound()
    context = r.context
    async with context.services.uow() as uow:
        await r.patient(uow)
        question = (await department_setup(uow)).questions[question_id]
        centre = await sites.details(uow, draft.get("site_id"))
    said = f"{_text(question, context.lang)}\n— {context._(YES if value else NO)}"
    if is_blocking(question, bool(value)):
        r.drop()
        phone = digits(centre.phone, context.lang)
        return Answered(said, context._(r.blocked).format(phone=phone))
    draft.setdefault("answers", {})[str(question_id)] = bool(value)
    r.keep(draft, Stage.SCREENING)
    return Answered(said, None)


async def take_prescription(
    r: Requester, draft: RequestDraft, message: Message, text: str
) -> None:
    """Keep the photo or file sent (stored through the clinic core) or the tracking code typed
    (``text``, Persian digits fine). Raises InvalidInput for either refused."""
    if message.photo or message.document is not None:
        draft["file"] = await fetch_prescription(message, r.context)
    else:
        draft["tracking_code"] = parse_tracking_code(text)
    r.keep(draft, Stage.SOURCE)


async def ask_insurer(r: Requester, draft: RequestDraft) -> View | None:
    """The insurer question; None when the insurer is known (saved for the patient, or
    answered before a code was refused): the request is ready to submit."""
    async with r.context.services.uow() as uow:
        patient = await r.patient(uow)
    if patient.insurer:
        draft.setdefault("insurer", patient.insurer)  # remembered, not asked twice
    if "insurer" in draft:
        return None
    r.keep(draft, Stage.INSURER)
    _ = r.context._
    buttons = [(_(label), r.routes.insurer(code.value)) for code, label in INSURERS.items()]
    return _(r.ask_insurer), choices(buttons)


def choose_insurer(draft: RequestDraft, code: str) -> bool:
    """Keep the insurer pressed; False when ``code`` is no insurer."""
    if code not in {i.value for i in Insurer}:
        return False
    draft["insurer"] = code
    return True


async def submit(r: Requester, draft: RequestDraft) -> Referral | None:
    """Submit the request through the clinic core and end it; None when the draft lacks the
    exam or the insurer (it was lost).

    Raises ClinicError. A tracking code in use already keeps everything else, waiting for
    another code or a photo (``source_again``).
    """
    r.drop()
    if "exam_id" not in draft or "insurer" not in draft:
        return None
    try:
        async with r.context.services.uow() as uow:
            request = ReferralRequest(
                r.patient_id,
                draft["exam_id"],
                draft["insurer"],
                await answers_by_code(uow, draft.get("answers", {})),
                tracking_code=draft.get("tracking_code"),
                file=stored_file(draft.get("file")),
                site_id=draft.get("site_id"),
            )
            referral = await submit_referral(uow, r.actor, request)
            await uow.commit()
    except TrackingCodeInUse:
        draft.pop("tracking_code", None)
        r.keep(draft, Stage.SOURCE)
        raise
    return referral


def source_again(r: Requester, error: ClinicError) -> View:
    """Why the code was refused, and the prescription asked for again."""
    return f"{explain(error, r.context)}\n\n{r.context._(ASK_SOURCE)}", r.waiting()
