"""Reception books for a patient at the desk or on the phone, through the same rules and steps
as a patient or health worker: a referral (the e-prescription's tracking code, or the paper one
reception holds), the safety questions, a free time, the hold and its confirmation, whose
notice reaches the patient the usual way (chat, or SMS without one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import limits, sites
from clinic.availability import bookable_times_range, exam_devices, today
from clinic.booking import confirm_booking, hold_slot
from clinic.catalogue import get_exam
from clinic.department_setup import department_setup
from clinic.errors import InvalidInput, NotFound, SlotFull
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingChannel,
    Keep,
    Referral,
    ReferralStatus,
    Role,
)
from clinic.patients import find_by_national_code
from clinic.referrals import (
    ReferralRequest,
    load_exam,
    questions_for,
    review_referral,
    submit_referral,
)

if TYPE_CHECKING:
    from datetime import date

    from clinic.actors import Actor
    from clinic.availability import BookableTime
    from clinic.models import Patient
    from clinic.setup_views import DepartmentSetup, QuestionView
    from clinic.uow import UnitOfWork

DESK_CHANNELS = (BookingChannel.DESK, BookingChannel.PHONE)
FIRST_TRIES = 8  # free times tried in turn for "the first free time", when others take them


@dataclass(frozen=True)
class DeskRequest:
    """What reception has in hand: who, which exam, the prescription, the answers, a time."""

    national_code: str
    exam_code: str
    insurer: str
    answers: dict[str, bool]
    tracking_code: str | None = None  # else the paper prescription, held at the desk
    starts_at: datetime | None = None  # None: the first free time
    device_code: str | None = None  # on this device (with or without ``starts_at``)
    channel: BookingChannel = BookingChannel.DESK
    keep: Keep | None = None  # an urgent case or an inpatient may use the places kept for them
    site_id: int | None = None  # at this site (None: the staff member's, when they have one)


class MissingAnswers(InvalidInput):
    """The patient has not answered every safety question the exam asks of them."""

    code = "desk_missing_answers"
    message = N_("Please ask the patient every safety question first: {questions}.")


async def questions_for_patient(
    uow: UnitOfWork, national_code: str, exam_code: str
) -> list[QuestionView]:
    """The safety questions ``exam_code`` asks of this patient (their sex and age)."""
    patient = await _patient(uow, national_code)
    exam = await load_exam(uow, (await get_exam(uow, exam_code)).id)
    return questions_for(uow, exam, patient)


async def _patient(uow: UnitOfWork, national_code: str) -> Patient:
    patient = await find_by_national_code(uow, national_code)
    if patient is None:
        raise NotFound(N_("No patient has this national code; register them first."))
    return patient


async def book_at_desk(
    uow: UnitOfWork, actor: Actor, request: DeskRequest, *, earliest: datetime | None = None
) -> Booking:
    """Book (and confirm) for the patient; reception approves the referral it makes.

    An approved referral of the patient for the exam that no booking uses is booked again
    rather than doubled. Raises NotAllowed, NotFound (patient, exam, device), MissingAnswers,
    ScreeningBlocked, InvalidInput, SlotUnavailable, SlotFull (no free time at all), and the
    caps' refusals.
    """
    actor = actor.require_role(Role.RECEPTION)
    if request.channel not in (*DESK_CHANNELS, BookingChannel.WALK_IN):
        raise InvalidInput(N_("A desk booking is made at the desk or on the phone."))
    patient = await _patient(uow, request.national_code)
    exam = await get_exam(uow, request.exam_code)
    referral_id = await _open_referral(uow, actor, patient.id, exam.id, request.site_id)
    if referral_id is None:
        asked = questions_for(uow, await load_exam(uow, exam.id), patient)
        missing = [q.code for q in asked if q.code not in request.answers]
        if missing:
            raise MissingAnswers(questions=", ".join(missing))
        referral = await submit_referral(
            uow,
            actor,
            ReferralRequest(
                patient.id, exam.id, request.insurer, request.answers,
                tracking_code=request.tracking_code, paper_seen=request.tracking_code is None,
                site_id=request.site_id,
            ),
        )  # fmt: skip
        if referral.status == ReferralStatus.SUBMITTED:
            await review_referral(uow, actor, referral.id, approve=True)
        referral_id = referral.id
    earliest = earliest or desk_earliest(uow, request.channel)
    referral = await uow.session.get_one(Referral, referral_id)
    candidates = await _times(uow, actor, exam.id, request, earliest, referral.department_id)
    for device_id, starts_at in candidates[:-1]:
        # "The first free time": another desk may take it meanwhile; then the next one.
        try:
            async with uow.session.begin_nested():
                held = await _hold(
                    uow, actor, referral_id, device_id, starts_at, request, earliest
                )
        except SlotFull:
            continue
        return await confirm_booking(uow, actor, held.id)
    device_id, starts_at = candidates[-1]
    held = await _hold(uow, actor, referral_id, device_id, starts_at, request, earliest)
    return await confirm_booking(uow, actor, held.id)


async def _hold(
    uow: UnitOfWork,
    actor: Actor,
    referral_id: int,
    device_id: int,
    starts_at: datetime,
    request: DeskRequest,
    earliest: datetime | None,
) -> Booking:
    return await hold_slot(
        uow, actor, referral_id, device_id, starts_at,
        channel=request.channel, keep=request.keep, earliest=earliest,
    )  # fmt: skip


def desk_earliest(uow: UnitOfWork, channel: BookingChannel) -> datetime | None:
    """The first moment a desk booking may start: now for a patient at the desk (or a walk-in),
    the chat's lead time (None) for one on the phone, who must still come in."""
    return None if channel is BookingChannel.PHONE else uow.clock.now()


async def desk_times(
    uow: UnitOfWork,
    exam_id: int,
    first: date,
    last: date,
    *,
    channel: BookingChannel,
    keep: Keep | None = None,
    actor: Actor | None = None,
) -> dict[date, list[BookableTime]]:
    """The free starts reception may book on ``first..last`` for this channel and purpose
    (the same ones ``book_at_desk`` would take), on the devices of ``actor``'s sites."""
    times = await bookable_times_range(
        uow, exam_id, first, last, keep=keep, earliest=desk_earliest(uow, channel)
    )
    if actor is None or actor.sites is None:
        return times
    setup = await department_setup(uow)
    mine = {d: [t for t in ts if actor_may(actor, setup, t.device_id)] for d, ts in times.items()}
    return {day: ts for day, ts in mine.items() if ts}


def actor_may(actor: Actor, setup: DepartmentSetup, device_id: int) -> bool:
    """Whether ``actor`` works at the site of the device ``device_id``."""
    device = setup.devices.get(device_id)
    return device is not None and sites.may_act_at(actor, device.site)


async def _open_referral(
    uow: UnitOfWork, actor: Actor, patient_id: int, exam_id: int, site_id: int | None
) -> int | None:
    """An approved referral of the patient for the exam, for a site of ``actor``'s (and
    ``site_id``, when given), with no booking under way or used."""
    at = sites.in_scope(actor, Referral.department_id)
    if site_id is not None:
        at = at & (Referral.department_id == site_id)
    rows = await uow.session.scalars(
        select(Referral.id)
        .where(
            Referral.patient_id == patient_id,
            Referral.exam_id == exam_id,
            Referral.status == ReferralStatus.APPROVED,
            at,
        )
        .order_by(Referral.id.desc())
    )
    for referral_id in rows:
        busy = await uow.session.scalar(
            select(Booking.id)
            .where(Booking.referral_id == referral_id, Booking.status.in_(ACTIVE_BOOKING))
            .limit(1)
        )
        if busy is None and not await limits.is_used(uow, referral_id):
            return int(referral_id)
    return None


async def _times(
    uow: UnitOfWork,
    actor: Actor,
    exam_id: int,
    request: DeskRequest,
    earliest: datetime | None,
    site_id: int | None,
) -> list[tuple[int, datetime]]:
    """The time asked for, or the first few free ones (tried in order), as (device, start),
    on the devices of the referral's site that ``actor`` works at."""
    _, devices = await exam_devices(uow, exam_id, site=site_id)
    devices = [d for d in devices if sites.may_act_at(actor, d.site)]
    if request.device_code is not None:
        devices = [d for d in devices if d.code == request.device_code.upper()]
        if not devices:
            raise NotFound(N_("No device with this code performs the exam."))
    if request.starts_at is not None:
        if len(devices) == 1:
            return [(devices[0].id, request.starts_at)]
        day = to_tehran(request.starts_at).date()
        free = await _free(uow, exam_id, day, day, request, earliest, site_id)
        for time in free:
            if time.starts_at == request.starts_at and time.device_id in {d.id for d in devices}:
                return [(time.device_id, time.starts_at)]
        return [(devices[0].id, request.starts_at)]  # hold_slot says why it is not free
    first = today(uow)
    last = first + timedelta(days=uow.policy.horizon_days)
    wanted = {d.id for d in devices}
    free = await _free(uow, exam_id, first, last, request, earliest, site_id)
    found = [(t.device_id, t.starts_at) for t in free if t.device_id in wanted][:FIRST_TRIES]
    if not found:
        raise SlotFull()
    return found


async def _free(
    uow: UnitOfWork,
    exam_id: int,
    first: date,
    last: date,
    request: DeskRequest,
    earliest: datetime | None,
    site_id: int | None,
) -> list[BookableTime]:
    times = await bookable_times_range(
        uow, exam_id, first, last, keep=request.keep, earliest=earliest, site=site_id
    )
    return [t for day in sorted(times) for t in times[day]]
