"""Typed clinic errors; each carries an English msgid to translate and its placeholders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinic.i18n import N_

if TYPE_CHECKING:
    from datetime import datetime


class ClinicError(Exception):
    """A rule said no. ``message`` is an English msgid; fill ``params`` after translating."""

    code = "clinic_error"
    message = N_("Something went wrong. Please try again.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.render())

    def render(self, translate: Any = None, *, persian_digits: bool = False) -> str:
        """The message in English, or through ``translate`` (a gettext function).

        Placeholders are filled after translation; numbers in them are written in Persian
        digits when ``persian_digits`` is set (for the ``fa`` catalogue).
        """
        text = translate(self.message) if translate else self.message
        params = self.params
        if persian_digits:
            params = {k: _persian(v) for k, v in params.items()}
        try:
            return str(text).format(**params)
        except (KeyError, IndexError, ValueError):
            return str(text)


def _persian(value: Any) -> Any:
    if isinstance(value, int | str) and not isinstance(value, bool):
        return str(value).translate(_TO_PERSIAN)
    return value


_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


class InvalidInput(ClinicError):
    """The user typed something we cannot accept; say why."""

    code = "invalid_input"


class InvalidNationalCode(InvalidInput):
    """A national code that is not ten digits or fails its check digit."""

    code = "invalid_national_code"
    message = N_("The national code must be 10 digits with a valid check digit.")


class InvalidMobile(InvalidInput):
    """A mobile number not in the ``09xxxxxxxxx`` form."""

    code = "invalid_mobile"
    message = N_("The mobile number must look like 09123456789.")


class InvalidDate(InvalidInput):
    """A Jalali date that does not exist."""

    code = "invalid_date"
    message = N_("That date does not exist. Please write it like 1403/12/30.")


class NotFound(ClinicError):
    """No such record, or none the actor may see."""

    code = "not_found"
    message = N_("We could not find that record.")


class NotAllowed(ClinicError):
    """The actor may not do this."""

    code = "not_allowed"
    message = N_("You are not allowed to do that.")


class Conflict(ClinicError):
    """The record is not in a state that allows this action."""

    code = "conflict"
    message = N_("This action is no longer possible.")


class SlotFull(Conflict):
    """The slot's places were taken meanwhile."""

    code = "slot_full"
    message = N_("That time has just been taken. Please choose another time.")


class SlotUnavailable(Conflict):
    """The time is not one the exam can be booked at on that device."""

    code = "slot_unavailable"
    message = N_("That time cannot be booked. Please choose another time.")


class HoldExpired(Conflict):
    """The hold on a time ran out before it was confirmed; ``minutes`` is its length."""

    code = "hold_expired"
    message = N_(
        "We kept that time for you for {minutes} minutes, but the time ran out. "
        "Please choose a time again."
    )


class TooLateToCancel(Conflict):
    """The booking is less than ``hours`` away: the patient calls the department."""

    code = "too_late_to_cancel"
    message = N_(
        "Appointments can be cancelled up to {hours} hours before. "
        "Please call the department to cancel this one."
    )


class ReferralNotApproved(Conflict):
    """The referral awaits staff review, so it cannot be booked yet."""

    code = "referral_not_approved"
    message = N_("Your referral has not been approved yet; we will tell you when it is.")


class ScreeningBlocked(Conflict):
    """A screening answer rules the exam out until the department has talked with the patient."""

    code = "screening_blocked"
    message = N_(
        "Because of your answer, this exam needs a conversation with the department first. "
        "Please call the department."
    )


class WrongLinkCode(InvalidInput):
    """A /link code that is wrong, used, revoked or expired (one message, so a guesser learns
    nothing); ``left`` is how many more tries this account has before it is paused."""

    code = "wrong_link_code"
    message = N_(
        "This code is not valid. Please check it, or ask the department for a new one. "
        "Tries left: {left}."
    )


class LinkLocked(InvalidInput):
    """The chat account failed too often; no code is looked up until ``until``."""

    code = "link_locked"
    message = N_(
        "Too many unsuccessful tries from this account. For everyone's safety, linking is "
        "paused until {until} (Tehran time). Please try again then, or ask the department "
        "for help."
    )

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(until=until.isoformat(timespec="minutes"))


class PhoneMismatch(InvalidInput):
    """The shared phone number is not the mobile number on record, so no link."""

    code = "phone_mismatch"
    message = N_(
        "This account's phone number is not the mobile number the department has on record "
        "for you, so it was not linked. Please ask the department to check your number."
    )


class NotOwnContact(InvalidInput):
    """The shared contact is not the account's own number."""

    code = "not_own_contact"
    message = N_(
        "Please share this account's own number with the button below; someone else's "
        "contact cannot be used."
    )


class Refusal(Conflict):
    """A rule about the patient said no; the wording depends on who asked.

    ``message`` speaks to the patient, ``worker_message`` to someone acting for them (a health
    worker, the operator).
    """

    worker_message = Conflict.message

    def __init__(self, *, for_patient: bool = True, **params: Any) -> None:
        super().__init__(None if for_patient else self.worker_message, **params)


class OpenReferralForExam(Refusal):
    """The patient already has an open referral for this exam."""

    code = "open_referral_for_exam"
    message = N_(
        "You already have an open request for this exam. You can see it under «My "
        "appointments»; cancel it there if you want to send a new one."
    )
    worker_message = N_(
        "This patient already has an open request for this exam. You can see it on the "
        "patient's card; cancel it there if you want to send a new one."
    )


class TooManyOpenReferrals(Refusal):
    """The patient has as many open referrals as one person may (``count``)."""

    code = "too_many_open_referrals"
    message = N_(
        "You already have {count} open imaging requests, the most one person can have at once. "
        "You can see them under «My appointments». Please cancel one you no longer need, or "
        "wait until one of your exams is done, then send the new one."
    )
    worker_message = N_(
        "This patient already has {count} open imaging requests, the most one person can have "
        "at once. You can see them on the patient's card. Please cancel one the patient no "
        "longer needs, or wait until one of their exams is done, then send the new one."
    )


class BookingForExam(Refusal):
    """The patient already has an upcoming booking for this exam."""

    code = "booking_for_exam"
    message = N_(
        "You already have an upcoming appointment for this exam. You can see it under «My "
        "appointments»; to change its time, choose «Reschedule» there."
    )
    worker_message = N_(
        "This patient already has an upcoming appointment for this exam. You can see it on the "
        "patient's card; to change its time, choose «Another time» there."
    )


class NoShowLimit(Refusal):
    """The patient missed more appointments than the policy allows without cancelling."""

    code = "no_show_limit"
    message = N_(
        "You have missed {count} appointments without cancelling them, so a new time cannot be "
        "booked here for now. Please call the department at {phone}: reception will gladly book "
        "for you and can lift this."
    )
    worker_message = N_(
        "This patient has missed {count} appointments without cancelling them, so a new time "
        "cannot be booked here for now. Please call the department at {phone}: reception will "
        "book for them and can lift this."
    )


class TooManyFutureBookings(Refusal):
    """The patient has as many upcoming bookings as one person may (``count``)."""

    code = "too_many_future_bookings"
    message = N_(
        "You already have {count} upcoming appointments, the most one person can have at once. "
        "You can see them under «My appointments». Please cancel one you no longer need, or "
        "book this exam after one of them has taken place."
    )
    worker_message = N_(
        "This patient already has {count} upcoming appointments, the most one person can have "
        "at once. You can see them on the patient's card. Please cancel one the patient no "
        "longer needs, or book this exam after one of them has taken place."
    )


class TrackingCodeInUse(Refusal):
    """The e-prescription tracking code is on another open referral."""

    code = "tracking_code_in_use"
    message = N_(
        "This e-prescription tracking code is already used for another open request. Please "
        "check the code. If that request is yours, you can see it under «My appointments»; if "
        "the code is right and you did not send it before, please call the department."
    )
    worker_message = N_(
        "This e-prescription tracking code is already used for another open request. Please "
        "check the code with the patient. If the request is this patient's, you can see it on "
        "the patient's card; if the code is right, please call the department."
    )


class AlreadyRegistered(Conflict):
    """A family member being added is a patient already (or the account holder): nothing of
    their record is told, and no access is given from here."""

    code = "already_registered"
    message = N_(
        "This person is already registered with us, so for their privacy they cannot be added "
        "here. They can use the bot from their own Telegram or Bale account, or call the "
        "department for help."
    )


class TooManyFamilyMembers(Conflict):
    """The chat account already acts for as many family members as one account may."""

    code = "too_many_family_members"
    message = N_(
        "You can add at most {count} family members. Please remove one you no longer book for "
        "first."
    )
