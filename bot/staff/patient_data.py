"""Admin: a patient's data on their request (``clinic.patient_data``). The admin types the
national code and sees whose record it is and how much is held; «Export» sends the zip to
this private chat, «Erase» shows what goes and what stays, then erases. Both are audited by
the clinic core; the buttons carry the record's id, never the code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InputFile
from telegram.constants import ChatType

from bot import routes
from bot.drafts import StaffInput
from bot.handlers.common import show
from bot.keyboards import choices
from bot.staff.common import TO_MENU, ask, back
from bot.views import digits
from clinic.errors import NotAllowed
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.patient_data import erase_patient, export_patient, patient_card

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.context import BotContext
    from bot.gate import Press, Typed, View
    from clinic.patient_data import PatientCard
    from clinic.patient_erasure import ErasureSummary

ASK_CODE = N_("Please type the national code of the patient whose data is asked for.")
CARD = N_(
    "Patient {id}: {name}, born {year}, national code {code}.\n\n"
    "We hold {referrals} requests ({files} prescription files), {bookings} appointments, "
    "{reports} reports, {notices} notices, {sms} SMS, {accounts} chat accounts and {audit} "
    "audit entries about them."
)
OPEN_NOW = N_("Open now: {upcoming} upcoming appointments, {requests} requests without a time.")
IN_PROGRESS = N_(
    "They were admitted for an exam that is not finished yet: their data can be erased once "
    "it is done."
)
EXPORT, ERASE = N_("📦 Export their data"), N_("🗑 Erase their data")
CAPTION = N_(
    "Health data of patient {id}: everything we hold about them. Hand it to the patient (or "
    "to whom they name), then delete it from this chat."
)
EXPORTED = N_(
    "The file is sent below. It holds health data: please hand it to the patient, then "
    "delete it from this chat."
)
PREVIEW = N_(
    "Erase the personal data of patient {id} ({name})?\n\n"
    "Goes: their name, national code and mobile, their chat accounts and family links, "
    "{files} prescription files, their waitlist places, their SMS and what their notices "
    "said.\n"
    "Stays, without identity: {bookings} appointments, {reports} reports with their "
    "accession numbers, {referrals} requests and the audit log."
)
CANCEL_FIRST = N_(
    "First, {upcoming} upcoming appointments and {requests} requests without a time are "
    "cancelled: their places are offered to others and the hospital's systems are told."
)
YES, YES_CANCEL = N_("🗑 Yes, erase"), N_("🗑 Cancel them and erase")
KEEP = N_("No, keep it")
ERASED = N_(
    "Erased: patient {id} has no name, national code or mobile here any more. {removed} "
    "items and {files} files were removed. Kept without identity: {bookings} appointments, "
    "{reports} reports, {referrals} requests."
)
WAITING = N_(
    "Cancelled {cancelled} appointments and {withdrawn} requests. The hospital's systems "
    "have {waiting} changes of them still to take (or refused them: see the booking events "
    "the hospital refused). Nothing is erased yet; please try again in a few minutes."
)
AGAIN = N_("🔄 Try again")


def _numbers(context: BotContext) -> Callable[[int], str]:
    """A count as the user reads it (Persian digits for ``fa``)."""

    def number(value: int) -> str:
        return digits(str(value), context.lang)

    return number


async def ask_code(p: Press) -> View:
    """Wait for the national code."""
    ask(p.context, StaffInput(kind="patient_data"))
    return p.context._(ASK_CODE), back(p.context)


def _card_text(context: BotContext, card: PatientCard) -> str:
    c, n = card.counts, _numbers(context)
    text = context._(CARD).format(
        id=n(card.patient_id), name=card.name, year=n(card.birth_year),
        code=digits(card.national_code, context.lang), referrals=n(c["referrals"]),
        files=n(c["prescription_files"]), bookings=n(c["bookings"]), reports=n(c["reports"]),
        notices=n(c["notices"]), sms=n(c["sms_questions"] + c["sms_received"]),
        accounts=n(c["chat_accounts"]), audit=n(c["audit_entries"]),
    )  # fmt: skip
    if card.upcoming or card.open_requests:
        text += "\n\n" + context._(OPEN_NOW).format(
            upcoming=n(card.upcoming), requests=n(card.open_requests)
        )
    return text


async def typed(t: Typed) -> View:
    """The card of the patient with the national code typed (a look at the record: audited);
    a mistyped or unknown code may be typed again."""
    async with t.context.services.uow() as uow:
        card = await patient_card(uow, t.actor, t.text)
        await uow.commit()
    context = t.context
    buttons = [
        (context._(EXPORT), routes.PATIENT_EXPORT(card.patient_id)),
        (context._(ERASE), routes.PATIENT_ERASE(card.patient_id)),
    ]
    return _card_text(context, card), choices(
        buttons, extra=[(context._(TO_MENU), routes.STAFF_MENU())]
    )


async def export(p: Press) -> View | None:
    """The zip, sent as a document to this private chat (audited by the clinic core)."""
    context, chat = p.context, p.update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        raise NotAllowed()
    async with context.services.uow() as uow:
        data = await export_patient(uow, p.actor, p.args.id(0), files=context.services.files)
        archive = data.zip_bytes()
        await uow.commit()
    name = data.file_name(to_tehran(context.services.clock.now()).date())
    caption = context._(CAPTION).format(id=_numbers(context)(data.patient_id))
    erase_too = (context._(ERASE), routes.PATIENT_ERASE(data.patient_id))
    view = context._(EXPORTED), back(context, erase_too)
    await show(p.update, context, view)  # the card says what comes, then the file comes
    await context.bot.send_document(chat.id, InputFile(archive, filename=name), caption=caption)
    return None


async def erase_ask(p: Press) -> View:
    """What erasing goes through, what it removes and what it keeps, before anything changes."""
    context = p.context
    async with context.services.uow() as uow:
        card = await patient_card(uow, p.actor, p.args.id(0))
        await uow.commit()
    c, n = card.counts, _numbers(context)
    if card.admitted:
        return context._(IN_PROGRESS), back(context)
    text = context._(PREVIEW).format(
        id=n(card.patient_id), name=card.name, files=n(c["prescription_files"]),
        bookings=n(c["bookings"]), reports=n(c["reports"]), referrals=n(c["referrals"]),
    )  # fmt: skip
    cancel = bool(card.upcoming or card.open_requests)
    if cancel:
        text += "\n\n" + context._(CANCEL_FIRST).format(
            upcoming=n(card.upcoming), requests=n(card.open_requests)
        )
    # What the admin saw is what is done: something opened since is refused, not cancelled.
    confirm = routes.PATIENT_ERASE_OK(card.patient_id, int(cancel))
    yes = (context._(YES_CANCEL if cancel else YES), confirm)
    return text, choices([yes, (context._(KEEP), routes.STAFF_MENU())])


def _forget(context: BotContext, summary: ErasureSummary) -> None:
    """What this bot holds in memory for the patient's own accounts goes too."""
    for platform, user_id in summary.accounts:
        if platform == context.services.platform:
            context.application.drop_user_data(user_id)


async def erase(p: Press) -> View:
    """Erase (cancelling what is open first, as the preview said); or say it waits for the
    hospital's systems, with a button to try again."""
    context, n = p.context, _numbers(p.context)
    async with context.services.uow() as uow:
        summary = await erase_patient(
            uow, p.actor, p.args.id(0), files=context.services.files,
            cancel_upcoming=p.args.number(1) == 1,
        )  # fmt: skip
        await uow.commit()
    if not summary.erased:
        text = context._(WAITING).format(
            cancelled=n(summary.cancelled), withdrawn=n(summary.withdrawn),
            waiting=n(summary.waiting),
        )  # fmt: skip
        again = (context._(AGAIN), routes.PATIENT_ERASE_OK(summary.patient_id, 0))
        return text, back(context, again)
    _forget(context, summary)
    files = summary.removed.get("prescription_files", 0)
    text = context._(ERASED).format(
        id=n(summary.patient_id), removed=n(sum(summary.removed.values()) - files),
        files=n(files), bookings=n(summary.kept["bookings"]),
        reports=n(summary.kept["reports"]), referrals=n(summary.kept["referrals"]),
    )  # fmt: skip
    return text, back(context)
