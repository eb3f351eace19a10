"""Reception's walk-ins: the ticket in today's queue of a device (``clinic.walk_ins``), once the
desk steps (``bot.staff.desk``) have the patient, the exam, the prescription and the answers;
and each device's queue today, in number order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import routes
from bot.drafts import DESK
from bot.keyboards import choices
from bot.staff.common import TO_MENU, device_labels, device_of_today, today_in_tehran
from bot.staff.desk_draft import asked, patient_line
from bot.views import STATUS, digits, name
from clinic import audit
from clinic.department_setup import department_setup
from clinic.i18n import N_
from clinic.jalali import format_date
from clinic.models import BookingStatus, Role
from clinic.patients import get_patient
from clinic.walk_ins import WalkInRequest, issue_ticket, queue

if TYPE_CHECKING:
    from collections.abc import Collection

    from telegram import InlineKeyboardMarkup

    from bot.context import BotContext
    from bot.drafts import DeskDraft
    from bot.gate import Press, View
    from clinic.actors import Actor
    from clinic.setup_views import DepartmentSetup, DeviceView

TICKET = N_(
    "🎫 Ticket number {number}\n{patient}\nExam: {exam}\nDevice: {device}, {room}\n{ahead}"
)
AHEAD = N_("{n} people are ahead in the queue.")
NONE_AHEAD = N_("No one is ahead: the patient may go in now.")
CHOOSE_DEVICE = N_("Whose walk-in queue?")
QUEUE = N_("Walk-in queue of {device}, {date}:")
EMPTY = N_("No walk-in tickets yet today on {device}, {date}.")
ROW = "{number}. {patient} — {status}"  # no words to translate: the same in every language
WAITING = N_("Waiting")
QUEUE_STATUS = {BookingStatus.CHECKED_IN: WAITING}
REFRESH, ANOTHER = N_("🔄 Refresh"), N_("🎫 Another walk-in")
SEE_QUEUE, TO_QUEUES = N_("🚶 The queue"), N_("‹ Walk-in queues")
TO_DAY_LIST = N_("‹ Day list")


async def issue(context: BotContext, actor: Actor, found: DeskDraft) -> View:
    """Give the walk-in the next ticket of a device's queue today (all or nothing): the ticket
    with how many are ahead; the draft ends."""
    async with context.services.uow() as uow:
        wanted = await asked(uow, context, found)
        request = WalkInRequest(
            wanted.national_code, wanted.exam_code, found["insurer"], wanted.answers,
            tracking_code=found.get("tracking_code"),
        )  # fmt: skip
        ticket = await issue_ticket(uow, actor, request)
        device = (await department_setup(uow)).devices[ticket.device_id]
        who = patient_line(context, await get_patient(uow, found["patient"]))
        await uow.commit()
    DESK.drop(context)
    lang = context.lang
    ahead = context._(AHEAD).format(n=digits(str(ticket.ahead), lang))
    text = context._(TICKET).format(
        number=digits(str(ticket.number), lang),
        patient=who,
        exam=wanted.exam_name,
        device=name(device, lang),
        room=device.room_in(lang) or "-",
        ahead=ahead if ticket.ahead else context._(NONE_AHEAD),
    )
    items = [
        (context._(SEE_QUEUE), routes.QUEUE(device.id)),
        (context._(ANOTHER), routes.WALK_IN()),
    ]
    return text, choices(items, columns=2, extra=[(context._(TO_MENU), routes.STAFF_MENU())])


def queue_devices_of(
    setup: DepartmentSetup, within: Collection[int] | None = None
) -> list[DeviceView]:
    """The active devices (of the sites ``within``, when given) that perform an exam given in
    the walk-in queue, in order."""
    walk_in = [e for e in setup.exams.values() if e.active and e.walk_in]
    ids = {d.id for e in walk_in for d in setup.devices_for(e.id)}
    return [d for d in setup.active_devices(within) if d.id in ids]


async def devices(p: Press) -> View:
    """Choose the device whose queue to see."""
    async with p.context.services.uow() as uow:
        found = queue_devices_of(
            await department_setup(uow), p.actor.require_role(Role.RECEPTION).sites
        )
        labels = await device_labels(uow, found, p.context.lang)
    items = [(label, routes.QUEUE(d.id)) for d, label in labels]
    extra = [(p.context._(TO_MENU), routes.STAFF_MENU())]
    return p.context._(CHOOSE_DEVICE), choices(items, columns=2, extra=extra)


async def device_queue(p: Press) -> View:
    """Today's walk-in queue of a device: number, name, status."""
    device_id, context = p.args.id(0), p.context
    today = today_in_tehran(context)
    async with context.services.uow() as uow:
        device = await device_of_today(uow, device_id)
        rows = await queue(uow, p.actor, device_id, today)
        await audit.read(uow, p.actor, "walk_in_queue", device_id, day=today.isoformat())
        await uow.commit()
    lang = context.lang
    values = {"device": name(device, lang), "date": format_date(today, lang)}
    lines = [
        ROW.format(
            number=digits(str(r.number), lang),
            patient=r.patient_name,
            status=context._(QUEUE_STATUS.get(r.status) or STATUS.get(r.status, r.status)),
        )
        for r in rows
    ]
    title = context._(QUEUE if rows else EMPTY).format(**values)
    return "\n".join([title, *lines]), _queue_buttons(context, device_id)


def _queue_buttons(context: BotContext, device_id: int) -> InlineKeyboardMarkup:
    _ = context._
    items = [(_(REFRESH), routes.QUEUE(device_id)), (_(ANOTHER), routes.WALK_IN())]
    extra = [
        (_(TO_DAY_LIST), routes.DAY_LIST(device_id)),
        (_(TO_QUEUES), routes.QUEUE_DEVICES()),
        (_(TO_MENU), routes.STAFF_MENU()),
    ]
    return choices(items, columns=2, extra=extra)
