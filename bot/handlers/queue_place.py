"""On the exam day, once admitted: the patient's place in their device's queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.keyboards import choices
from bot.views import digits, name
from clinic.department_setup import department_setup
from clinic.i18n import N_
from clinic.jalali import format_time
from clinic.queue_position import queue_position, waiting_today

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.gate import Press, View
    from clinic.models import Booking
    from clinic.queue_position import QueuePosition
    from clinic.setup_views import DeviceView

ASK = N_("🔢 Where am I in the queue?")
AGAIN = N_("🔄 Ask again")
TO_APPOINTMENT = N_("‹ My appointment")
AS_OF = N_("🔢 The queue of {device} at {time}:")
NEXT = N_("You are next. Please stay near {room}; you will be called by name.")
ORDER = N_(
    "Patients are called by their appointment time, so this can change; an urgent patient may "
    "be called first."
)


def queue_buttons(context: BotContext, booking: Booking) -> list[tuple[str, str]]:
    """The queue button for an appointment admitted today; none before that or another day."""
    if not waiting_today(booking, context.services.clock.now()):
        return []
    return [(context._(ASK), routes.QUEUE_PLACE(booking.id))]


async def queue_pressed(p: Press) -> View:
    """How many admitted patients are ahead on the same device, and a rough wait."""
    async with p.context.services.uow().reading() as uow:
        place = await queue_position(uow, p.actor, p.args.id(0))
        device = (await department_setup(uow)).devices[place.device_id]
    buttons = [
        (p.context._(AGAIN), routes.QUEUE_PLACE(place.booking_id)),
        (p.context._(TO_APPOINTMENT), routes.APPOINTMENT(place.booking_id)),
    ]
    return queue_text(p.context, place, device), choices([], extra=buttons)


def queue_text(context: BotContext, place: QueuePosition, device: DeviceView) -> str:
    """The answer: the device and the time asked, who is ahead as a count, the wait."""
    lang, _ = context.lang, context._
    title = _(AS_OF).format(device=name(device, lang), time=format_time(place.as_of, lang))
    if not place.ahead:
        room = device.room_in(lang) or name(device, lang)
        return f"{title}\n{_(NEXT).format(room=room)}"
    # Literal plural pairs, so that pybabel extracts them as one plural entry each.
    ahead = context.ngettext(
        "{n} admitted patient is ahead of you.",
        "{n} admitted patients are ahead of you.",
        place.ahead,
    ).format(n=digits(str(place.ahead), lang))
    wait = context.ngettext(
        "A rough wait: about {n} minute.", "A rough wait: about {n} minutes.", place.wait_minutes
    ).format(n=digits(str(place.wait_minutes), lang))
    return f"{title}\n{ahead}\n{wait}\n\n{_(ORDER)}"
