"""What the one-time SMS codes of ``clinic.identity_checks`` answer when they say no: the
same words whether a national code is on record or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.errors import Conflict, InvalidInput, NotAllowed
from clinic.i18n import N_

if TYPE_CHECKING:
    from datetime import datetime


class WrongCode(InvalidInput):
    """Not the code sent; ``left`` more tries before this code is void."""

    code = "wrong_identity_code"
    message = N_(
        "That is not the code we sent. Please check the text message and type the 5 digits "
        "again. Tries left: {left}."
    )


class CodeUsedUp(InvalidInput):
    """The code is void (too many wrong tries), expired, replaced or used: ask for a new one."""

    code = "identity_code_used_up"
    message = N_(
        "This code can no longer be used. Please ask for a new one with the button below."
    )


class CodePaused(InvalidInput):
    """Too many wrong codes from this asker; none is checked until ``until``."""

    code = "identity_code_paused"
    message = N_(
        "Too many wrong codes were typed here. For everyone's safety, please try again after "
        "{until} (Tehran time), or call the department for help."
    )

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(until=until.isoformat(timespec="minutes"))


class NoMoreCodes(Conflict):
    """The day's text messages for this asker or this national code are used up."""

    code = "identity_code_no_more"
    message = N_(
        "We cannot send another code today. Please try again tomorrow, or call the department "
        "for help."
    )


class WaitToResend(Conflict):
    """The last code went less than a minute ago."""

    code = "identity_code_wait"
    message = N_(
        "A new code can be sent one minute after the last one. Please wait a little, then "
        "press the button again."
    )


class CheckNeeded(NotAllowed):
    """No confirmed code backs this registration (it expired, or was never confirmed)."""

    code = "identity_check_needed"
    message = N_(
        "The mobile number has not been confirmed with a code, or the confirmation expired. "
        "Please start again."
    )
