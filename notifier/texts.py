"""The words of every notice, for chat (full) and for SMS (short, never clinical)."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.i18n import N_
from clinic.outbox import Notice


@dataclass(frozen=True)
class Wording:
    """A notice's chat text and SMS text (English msgids; placeholders filled later)."""

    chat: str
    sms: str


# The one-time code's message names no one and no record: it may reach a record's owner who
# asked for nothing, who then knows not to pass it on.
CODE_SMS = N_(
    "{department}: your code is {code}. Give it only if you asked to register or to link "
    "your record. Valid for 10 minutes."
)
LINKED_SMS = N_(
    "{department}: a new chat account or health worker can now book for you. If this was not "
    "you, please call {phone}."
)

WORDING: dict[Notice, Wording] = {
    Notice.REFERRAL_RECEIVED: Wording(
        N_("We received your referral for {exam}. Staff will review it and we will message you."),
        N_("{department}: your referral was received. We will message you after review."),
    ),
    Notice.REFERRAL_APPROVED: Wording(
        N_("Good news: your referral for {exam} was approved. You can choose a time now."),
        N_(
            "{department}: your referral was approved. "
            "Please book a time in the bot or call {phone}."
        ),
    ),
    Notice.REFERRAL_REJECTED: Wording(
        N_(
            "We are sorry: your referral for {exam} could not be accepted.\nReason: {reason}\n"
            "Please call {phone} if you have questions."
        ),
        N_(
            "{department}: your referral could not be accepted. "
            "Please see the bot or call {phone}."
        ),
    ),
    Notice.BOOKING_CONFIRMED: Wording(
        N_("Your appointment is booked: {exam}, {date} at {time}, {place}. Booking code: {code}."),
        N_("{department}: appointment on {date} at {time}. Code {code}."),
    ),
    Notice.BOOKING_RESCHEDULED: Wording(
        N_("Your appointment was moved: {exam}, {date} at {time}, {place}. Booking code: {code}."),
        N_("{department}: appointment moved to {date} at {time}. Code {code}."),
    ),
    Notice.BOOKING_CANCELLED: Wording(
        N_("Your appointment on {date} at {time} was cancelled. Please book again when you wish."),
        N_("{department}: your appointment on {date} at {time} was cancelled."),
    ),
    Notice.REMINDER: Wording(
        N_("Reminder: your appointment for {exam} is on {date} at {time}, {place}. Code: {code}."),
        N_("{department} reminder: appointment {date} at {time}. Code {code}."),
    ),
    Notice.PREPARATION: Wording(
        N_("Preparation for your appointment on {date} at {time}:\n{steps}"),
        # No step in SMS: a step's words (a medicine to stop, a fast) hint at the exam or a
        # condition, and an SMS is read by whoever holds the phone.
        N_(
            "{department}: please read the preparation for your appointment on {date} at "
            "{time} in the bot, or call {phone}."
        ),
    ),
    Notice.WAITLIST_OFFER: Wording(
        N_(
            "An earlier time is free for {exam}: {date} at {time}. We are keeping it for you "
            "until {expires}. Press Confirm to take it."
        ),
        N_(
            "{department}: an earlier time is free, {date} at {time}, until {expires}. "
            "See the bot."
        ),
    ),
    Notice.CLOSURE_MOVED: Wording(
        N_(
            "Because of {reason}, your appointment was moved to {date} at {time}, {place}. "
            "Booking code: {code}. If this time does not suit you, you can change it in the bot."
        ),
        N_("{department}: because of {reason}, your appointment moved to {date} at {time}."),
    ),
    Notice.CLOSURE_CANCELLED: Wording(
        N_(
            "Because of {reason}, your appointment on {date} at {time} was cancelled. "
            "Free days: {options}. Please choose a new time."
        ),
        N_(
            "{department}: because of {reason}, your {date} appointment was cancelled. "
            "Please rebook."
        ),
    ),
    Notice.IMAGES_READY: Wording(
        N_("The images of your exam on {date} are ready. We will tell you when the report is."),
        N_("{department}: the images of your {date} exam are ready."),
    ),
    Notice.REPORT_READY: Wording(
        N_("Your report is ready. Pickup code: {pickup}. Collect it at {where}."),
        N_("{department}: your report is ready. Pickup code {pickup}."),
    ),
    Notice.REPORT_CORRECTED: Wording(
        N_("An updated report is ready. Pickup code: {pickup}. Collect it at {where}."),
        N_("{department}: an updated report is ready. Pickup code {pickup}."),
    ),
    Notice.BROADCAST: Wording(N_("📢 {department}:\n{text}"), N_("{department}: {text}")),
    Notice.LINK_CODE_REVOKED: Wording(
        N_(
            "🔒 Security notice: the link code you issued for {person} was cancelled after "
            "several tries to use it from accounts whose number is not theirs. If they did not "
            "try this themselves, someone else may have seen the code. When they are ready, "
            "please give them a new code; it works only from their own mobile number."
        ),
        N_("{department}: a link code you issued was cancelled after failed tries. See the bot."),
    ),
    Notice.LINK_CODE_USED: Wording(
        N_(
            "🔗 {person} has linked their chat account with the link code you issued, from their "
            "own mobile number. If it was not them, please tell the department's admin at once "
            "so the access can be removed."
        ),
        N_("{department}: a link code you issued has been used to link an account."),
    ),
    # The answers to a patient's SMS reply (clinic/sms_replies.py): SMS first, chat alike.
    Notice.SMS_CONFIRMED: Wording(
        N_("Thank you. We expect you on {date} at {time}. Code {code}."),
        N_("{department}: thank you, we expect you on {date} at {time}. Code {code}."),
    ),
    Notice.SMS_TOO_LATE: Wording(
        N_(
            "Sorry, your appointment on {date} at {time} is too close to cancel by SMS. "
            "Please call {phone}."
        ),
        N_(
            "{department}: sorry, your {date} appointment is too close to cancel by SMS. "
            "Please call {phone}."
        ),
    ),
    Notice.SMS_CLOSED: Wording(
        N_(
            "Your appointment on {date} at {time} can no longer be changed by SMS. "
            "Please call {phone} if you need to."
        ),
        N_(
            "{department}: your {date} appointment can no longer be changed by SMS. "
            "Please call {phone}."
        ),
    ),
    Notice.SMS_OFFER_GONE: Wording(
        N_(
            "Sorry, the earlier time on {date} at {time} is no longer held for you. "
            "You stay on the waitlist; we will message you if another time is free."
        ),
        N_("{department}: sorry, that earlier time is no longer held. You stay on the waitlist."),
    ),
    Notice.SMS_OFFER_DECLINED: Wording(
        N_("Thank you for telling us. You stay on the waitlist for an earlier time."),
        N_("{department}: thank you. You stay on the waitlist for an earlier time."),
    ),
    Notice.SMS_CHOICE: Wording(
        N_("Which appointment is your answer about? {choices}. Please reply with its number."),
        N_("{department}: which appointment is your answer about? {choices}. Reply its number."),
    ),
    Notice.SMS_HELP: Wording(
        N_(
            "We could not read your reply. Please answer our message with one digit, "
            "or call {phone}."
        ),
        N_("{department}: we could not read your reply. Answer with one digit or call {phone}."),
    ),
    # By SMS only (notifier/identity_sms.py): one text for both.
    Notice.IDENTITY_CODE: Wording(CODE_SMS, CODE_SMS),
    Notice.RECORD_LINKED: Wording(LINKED_SMS, LINKED_SMS),
}

# The one-digit answer a notice sent by SMS invites (only while replies are read: Policy
# sms_replies); chat keeps its buttons instead.
SMS_INVITES: dict[Notice, str] = {
    Notice.REMINDER: N_("Reply 1 = I will come, 2 = cancel"),
    Notice.WAITLIST_OFFER: N_("Reply 1 = take it, 2 = no thanks"),
}

BOOK_BUTTON = N_("📅 Choose a time")
CONFIRM_BUTTON = N_("✅ Confirm")
CHANGE_BUTTON = N_("🔁 Change the time")
