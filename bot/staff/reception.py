"""Reception: referrals waiting for review, approved or rejected with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.conversations.request import INSURERS
from bot.drafts import StaffInput
from bot.keyboards import choices
from bot.staff.common import TO_MENU, ask, back, waiting
from bot.views import digits, name
from clinic import audit
from clinic.department_setup import department_setup
from clinic.i18n import N_, translator
from clinic.patients import get_patient
from clinic.referrals import get_referral, pending_review, review_referral
from clinic.sites import all_sites

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.actors import Actor
    from clinic.models import Patient, Referral
    from clinic.uow import UnitOfWork

NO_REFERRALS = N_("No referrals are waiting for review.")
REFERRALS = N_("Referrals waiting for review, oldest first:")
REFERRAL = N_(
    "Referral {id}\nPatient: {patient}\nExam: {exam}\nInsurer: {insurer}\n"
    "Prescription: {source}\nSafety answers:\n{answers}"
)
PAPER = N_("paper (the file is sent above)")
CENTRE, ANY_CENTRE = N_("Centre: {centre}"), N_("any centre")
EPRESCRIPTION = N_("e-prescription, tracking code {code}")
NO_ANSWERS = N_("none asked")
YES, NO = N_("Yes"), N_("No")
APPROVE, REJECT = N_("✅ Approve"), N_("❌ Reject")
TO_REFERRALS = N_("‹ Referrals")
WHY = N_("Why is the referral rejected? The patient will see this reason.")
REASONS = (
    N_("The prescription is not legible."),
    N_("The prescription is for a different exam."),
    N_("The prescription has expired."),
    N_("The prescription is incomplete."),
)
TYPE_REASON = N_("✍️ Type another reason")
ASK_REASON = N_("Please type the reason the patient will see.")
APPROVED = N_("Referral {id} is approved; the patient has been told.")
REJECTED = N_("Referral {id} is rejected; the patient has been told the reason.")


def person(patient: Patient) -> str:
    """The patient's name as staff see it."""
    return f"{patient.first_name} {patient.last_name}"


# Referrals ------------------------------------------------------------------------------------


async def referrals(p: Press) -> View:
    """The referrals waiting for review, one button each."""
    context = p.context
    async with context.services.uow() as uow:
        waiting = (await pending_review(uow, p.actor))[:30]
        exams = (await department_setup(uow)).exams
    if not waiting:
        return context._(NO_REFERRALS), back(context)
    items = [
        (f"{digits(str(r.id), context.lang)} · {name(exams[r.exam_id], context.lang)}",
         routes.REFERRAL(r.id))
        for r in waiting
    ]  # fmt: skip
    return context._(REFERRALS), choices(items, extra=[(context._(TO_MENU), routes.STAFF_MENU())])


async def _answers(uow: UnitOfWork, context: BotContext, referral: Referral) -> str:
    given = referral.screening_answers
    questions = [q for q in (await department_setup(uow)).questions.values() if q.code in given]
    lines = [
        f"• {q.text_fa if context.lang == 'fa' else q.text_en} — "
        f"{context._(YES if referral.screening_answers[q.code] else NO)}"
        for q in questions
    ]
    return "\n".join(lines) or context._(NO_ANSWERS)


async def referral(p: Press) -> View | None:
    """One referral: the paper prescription's file, then its card with approve and reject."""
    referral_id, context = p.args.id(0), p.context
    async with context.services.uow() as uow:
        ref = await get_referral(uow, p.actor, referral_id)
        patient = await get_patient(uow, ref.patient_id)
        exam = (await department_setup(uow)).exam(ref.exam_id)
        answers = await _answers(uow, context, ref)
        every = await all_sites(uow)
        await audit.read(uow, p.actor, "patient", patient.id, via="referral", referral=ref.id)
        if ref.file_ref:
            await audit.read(uow, p.actor, "referral_file", ref.id)
        await uow.commit()
    source = (
        context._(EPRESCRIPTION).format(code=digits(ref.tracking_code or "", context.lang))
        if ref.tracking_code
        else context._(PAPER)
    )
    text = context._(REFERRAL).format(
        id=digits(str(ref.id), context.lang),
        patient=person(patient),
        exam=name(exam, context.lang),
        insurer=context._(INSURERS.get(ref.insurer, ref.insurer)),
        source=source,
        answers=answers,
    )
    if len(every) > 1:  # which centre it is for, where the service has several
        chosen = next((s.name(context.lang) for s in every if s.id == ref.department_id), None)
        text += "\n" + context._(CENTRE).format(centre=chosen or context._(ANY_CENTRE))
    buttons = [
        (context._(APPROVE), routes.REFERRAL_APPROVE(ref.id)),
        (context._(REJECT), routes.REFERRAL_REJECT(ref.id)),
    ]
    markup = choices(buttons, columns=2, extra=[(context._(TO_REFERRALS), routes.REFERRALS())])
    if not ref.file_ref:
        return text, markup
    # The file first, then the card below it (the card says the file is above).
    assert p.update.effective_chat is not None
    chat_id = p.update.effective_chat.id
    data = await context.services.files.read(ref.file_ref)
    extension = (ref.file_type or "").rsplit("/", 1)[-1].replace("jpeg", "jpg")
    await context.bot.send_document(chat_id, data, filename=f"referral-{ref.id}.{extension}")
    await context.bot.send_message(chat_id, text, reply_markup=markup)
    return None


async def approve(p: Press) -> View:
    """Approve: the patient is told they can book."""
    referral_id = p.args.id(0)
    async with p.context.services.uow() as uow:
        await review_referral(uow, p.actor, referral_id, approve=True)
        await uow.commit()
    text = p.context._(APPROVED).format(id=digits(str(referral_id), p.context.lang))
    return text, back(p.context, (p.context._(TO_REFERRALS), routes.REFERRALS()))


async def reject_reasons(p: Press) -> View:
    """The usual reasons, or type one."""
    referral_id, _ = p.args.id(0), p.context._
    items = [
        (_(reason), routes.REFERRAL_REJECT_LISTED(referral_id, i))
        for i, reason in enumerate(REASONS)
    ]
    extra = [
        (_(TYPE_REASON), routes.REFERRAL_REJECT_TYPED(referral_id)),
        (_(TO_REFERRALS), routes.REFERRALS()),
    ]
    return _(WHY), choices(items, extra=extra)


async def _reject(context: BotContext, actor: Actor, referral_id: int, reason: str) -> View:
    async with context.services.uow() as uow:
        await review_referral(uow, actor, referral_id, approve=False, reason=reason)
        await uow.commit()
    text = context._(REJECTED).format(id=digits(str(referral_id), context.lang))
    return text, back(context, (context._(TO_REFERRALS), routes.REFERRALS()))


async def reject_listed(p: Press) -> View | None:
    """Reject with a listed reason (written for the patient in Persian, the department's)."""
    referral_id, index = p.args.id(0), p.args.number(1)
    if index >= len(REASONS):
        return None  # no button offers it
    return await _reject(p.context, p.actor, referral_id, translator("fa").gettext(REASONS[index]))


async def reject_typed_ask(p: Press) -> View:
    """Wait for a typed reason."""
    ask(p.context, StaffInput(kind="reject", referral=p.args.id(0)))
    return p.context._(ASK_REASON), None


async def reject_typed(t: Typed) -> View:
    """Reject with the reason typed."""
    return await _reject(t.context, t.actor, waiting(t)["referral"], t.text)
