"""Typed clinic errors; each carries an English msgid to translate and its placeholders."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


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
    code = "invalid_national_code"
    message = N_("The national code must be 10 digits with a valid check digit.")


class InvalidMobile(InvalidInput):
    code = "invalid_mobile"
    message = N_("The mobile number must look like 09123456789.")


class InvalidDate(InvalidInput):
    code = "invalid_date"
    message = N_("That date does not exist. Please write it like 1403/12/30.")


class NotFound(ClinicError):
    code = "not_found"
    message = N_("We could not find that record.")


class NotAllowed(ClinicError):
    code = "not_allowed"
    message = N_("You are not allowed to do that.")


class Conflict(ClinicError):
    """The record is not in a state that allows this action."""

    code = "conflict"
    message = N_("This action is no longer possible.")


class SlotFull(Conflict):
    code = "slot_full"
    message = N_("That time has just been taken. Please choose another time.")


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    message = N_("That time cannot be booked. Please choose another time.")


class HoldExpired(Conflict):
    code = "hold_expired"
    message = N_(
        "We kept that time for you for {minutes} minutes, but the time ran out. "
        "Please choose a time again."
    )


class TooLateToCancel(Conflict):
    code = "too_late_to_cancel"
    message = N_(
        "Appointments can be cancelled up to {hours} hours before. "
        "Please call the department to cancel this one."
    )


class ReferralNotApproved(Conflict):
    code = "referral_not_approved"
    message = N_("Your referral has not been approved yet; we will tell you when it is.")


class ScreeningBlocked(Conflict):
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
    """This chat account failed too often; no code is looked up until ``until``."""

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
    code = "phone_mismatch"
    message = N_(
        "This account's phone number is not the mobile number the department has on record "
        "for you, so it was not linked. Please ask the department to check your number."
    )


class NotOwnContact(InvalidInput):
    code = "not_own_contact"
    message = N_(
        "Please share this account's own number with the button below; someone else's "
        "contact cannot be used."
    )
