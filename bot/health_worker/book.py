"""Days, times, hold and confirm as the health worker, for a referral or a booking to move."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import booking_steps as steps
from bot import routes
from bot.booking_steps import CHOOSE_DAY as CHOOSE_DAY
from bot.booking_steps import CONFIRM as CONFIRM
from bot.booking_steps import Booker, Button, Target
from bot.health_worker.common import back, failed, my_patient
from bot.health_worker.patients import full_name
from bot.routes import WORKER_STEPS
from clinic.i18n import N_

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.gate import Press, View
    from clinic.actors import Actor
    from clinic.errors import ClinicError
    from clinic.models import Booking
    from clinic.uow import UnitOfWork

HELD = N_(
    "This time is kept for {name} for {minutes} minutes. Please check it with the patient and "
    "confirm."
)
BOOKED = N_("Booked for {name}. The patient will get an SMS with the details.")
TO_PATIENT = N_("‹ Back to the patient")


class _Worker(Booker):
    """A health worker booking for their patient: "w" codes, the name, ways back."""

    routes, held, booked = WORKER_STEPS, HELD, BOOKED

    async def title(self, uow: UnitOfWork, msgid: str, booking: Booking, **values: str) -> str:
        """The title with the patient's name."""
        patient = await my_patient(uow, self.actor, booking.patient_id)
        return self.context._(msgid).format(name=full_name(patient), **values)

    def leave(self, patient_id: int) -> list[Button]:
        """Back to the patient's card."""
        return [(self.context._(TO_PATIENT), routes.WORKER_PATIENT(patient_id))]

    def no_days(self, patient_id: int) -> InlineKeyboardMarkup:
        """Back to the patient or to the menu."""
        return back(self.context, *self.leave(patient_id))

    def refused(self, _target: Target, error: ClinicError) -> View:
        """The reason, and back to the menu (as any other error)."""
        return failed(self.context, error)


async def days_view(context: BotContext, worker: Actor, target: Target) -> View:
    """The bookable days for the referral or the booking to move."""
    return await steps.days_view(_Worker(context, worker), target)


async def days(p: Press) -> View:
    """A page of days."""
    return await steps.days(_Worker(p.context, p.actor), p.args)


async def day(p: Press) -> View:
    """The free times of the chosen day."""
    return await steps.day(_Worker(p.context, p.actor), p.args)


async def hold(p: Press) -> View:
    """Hold the chosen time (on another device free then, if need be) and show the card."""
    return await steps.hold(_Worker(p.context, p.actor), p.args)


async def confirm(p: Press) -> View | None:
    """Confirm the held time as the worker; a second tap changes nothing."""
    booker = _Worker(p.context, p.actor)
    done = await steps.confirm(booker, p.args.id(0))
    if done is None:
        return None  # a double tap: the card already says so
    booking, card = done
    return card, back(p.context, *booker.leave(booking.patient_id))
