"""Holds and bookings: hold a slot, confirm it, cancel it, move it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from clinic import audit, capacity, limits, outbound, sites, waitlist
from clinic.availability import day_free, exam_devices, is_bookable, slots_needed
from clinic.codes import parse_code, unique_booking_code
from clinic.errors import (
    Conflict,
    HoldExpired,
    NotAllowed,
    NotFound,
    ReferralNotApproved,
    SlotFull,
    SlotUnavailable,
    TooLateToCancel,
)
from clinic.i18n import N_
from clinic.keeps import spare_per_day, spare_per_slot
from clinic.models import (
    ACTIVE_BOOKING,
    ActorKind,
    Booking,
    BookingChannel,
    BookingStatus,
    Device,
    Keep,
    Referral,
    ReferralStatus,
)
from clinic.outbound_views import OutboundKind
from clinic.outbox import Notice, enqueue
from clinic.patients import check_access, get_patient
from clinic.reminders import booking_params, schedule_booking_notices, withdraw_booking_notices

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

WITHDRAWN = N_("This request was cancelled. To book this exam, please send a new request.")
USED = N_(
    "This referral has already been used for an exam. For a new exam, please send a new request."
)


async def get_booking(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    """A booking the actor may see; someone else's booking is simply not found."""
    booking = await uow.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    await sites.require_device_site(uow, actor, booking.device_id)
    try:
        check_access(actor, await get_patient(uow, booking.patient_id))
    except NotAllowed:
        raise NotFound() from None
    return booking


async def _lock_booking(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    """The booking, locked until commit (someone else's is not found; locking it first and
    then refusing is harmless: the caller rolls back)."""
    booking = await uow.session.get(
        Booking, booking_id, with_for_update=True, populate_existing=True
    )
    if booking is None:
        raise NotFound()
    await sites.require_device_site(uow, actor, booking.device_id)
    try:
        check_access(actor, await get_patient(uow, booking.patient_id))
    except NotAllowed:
        raise NotFound() from None
    return booking


async def hold_slot(
    uow: UnitOfWork,
    actor: Actor,
    referral_id: int,
    device_id: int,
    starts_at: datetime,
    *,
    waitlist_id: int | None = None,
    hold_minutes: int | None = None,
    channel: BookingChannel | None = None,
    keep: Keep | None = None,
    earliest: datetime | None = None,
) -> Booking:
    """Keep a place for the referral's exam for a few minutes, until the patient confirms.

    A referral that already has a confirmed booking gets a hold that will replace it on
    confirmation (a reschedule); an earlier unconfirmed hold of the referral is released.
    Raises NotFound, ReferralNotApproved, Conflict (withdrawn or already used), SlotUnavailable,
    SlotFull, NotAllowed, BookingForExam and TooManyFutureBookings (the patient's caps).
    Places kept back on the device (``clinic.keeps``) are left free unless the booking is for
    their ``keep``; ``earliest`` moves the first bookable moment (a walk-in: now).
    """
    referral = await _lock_referral(uow, actor, referral_id)
    await release_expired_holds(uow)
    replaces = await _release_previous_hold(uow, referral)
    await limits.check_new_booking(uow, actor, referral)
    # Places are not counted here: capacity.take below takes them atomically (SlotFull) after
    # the sweep above, so reading the slot counters first would only cost a query.
    site = referral.department_id  # the site the patient chose: its devices only
    bookable = await is_bookable(
        uow, referral.exam_id, device_id, starts_at, places=False, earliest=earliest, site=site
    )
    if not bookable:
        raise SlotUnavailable()
    exam, devices = await exam_devices(uow, referral.exam_id, site=site)
    device = next(d for d in devices if d.id == device_id)
    count = slots_needed(exam, device)
    kept_today = spare_per_day(device, keep)
    if kept_today:
        # One hold at a time on a device keeping a day's last places: two at once would each
        # see the other's place as free and pass the check below together.
        await uow.session.execute(
            select(Device.id).where(Device.id == device.id).with_for_update()
        )
    await capacity.take(uow, device, starts_at, count, spare=spare_per_slot(device, keep))
    if kept_today and await day_free(uow, device, starts_at, keep, earliest) < kept_today:
        raise SlotFull()  # the day's last places are kept back for another purpose
    now = uow.clock.now()
    booking = Booking(
        code=await unique_booking_code(uow),
        referral_id=referral.id,
        patient_id=referral.patient_id,
        exam_id=exam.id,
        device_id=device.id,
        starts_at=starts_at,
        slots=count,
        status=BookingStatus.HELD,
        hold_expires_at=now + timedelta(minutes=hold_minutes or uow.policy.hold_minutes),
        replaces_id=replaces.id if replaces else None,
        waitlist_id=waitlist_id,
        created_by=actor.kind,
        created_by_id=actor.id,
        channel=channel or channel_of(actor),
        created_at=now,
    )
    uow.session.add(booking)
    await uow.session.flush()
    await audit.record(uow, actor, "booking.hold", "booking", booking.id)
    return booking


def channel_of(actor: Actor) -> BookingChannel:
    """How a booking by ``actor`` is made, unless told: a patient in chat, a health worker for
    their patient, staff at the desk (a phone booking says so)."""
    if actor.kind is ActorKind.HEALTH_WORKER:
        return BookingChannel.HEALTH_WORKER
    if actor.kind is ActorKind.STAFF:
        return BookingChannel.DESK
    return BookingChannel.CHAT


async def _lock_referral(uow: UnitOfWork, actor: Actor, referral_id: int) -> Referral:
    """The referral to book, its patient's row locked first (the caps count under that lock)."""
    found = await uow.session.get(Referral, referral_id)
    if found is None or not sites.may_act_at(actor, found.department_id):
        raise NotFound()
    check_access(actor, await get_patient(uow, found.patient_id))
    await limits.lock_patient(uow, found.patient_id)
    referral = await uow.session.get(
        Referral, referral_id, with_for_update=True, populate_existing=True
    )
    assert referral is not None
    if referral.status == ReferralStatus.WITHDRAWN:
        raise Conflict(WITHDRAWN)
    if referral.status != ReferralStatus.APPROVED:
        raise ReferralNotApproved()
    if await limits.is_used(uow, referral.id):
        raise Conflict(USED)
    return referral


async def _release_previous_hold(uow: UnitOfWork, referral: Referral) -> Booking | None:
    """Drop an unconfirmed hold of the referral; return its confirmed booking, if any."""
    rows = await uow.session.scalars(
        select(Booking)
        .where(
            Booking.referral_id == referral.id,
            Booking.status.in_(ACTIVE_BOOKING),
        )
        .with_for_update()
    )
    confirmed = None
    for booking in rows:
        if booking.status == BookingStatus.HELD:
            await _end(uow, booking, BookingStatus.CANCELLED, "replaced_hold")
        else:
            confirmed = booking
    if confirmed is not None and confirmed.status == BookingStatus.CHECKED_IN:
        raise Conflict(N_("This exam has already been admitted and cannot be moved."))
    return confirmed


async def _end(
    uow: UnitOfWork, booking: Booking, status: BookingStatus, reason: str | None = None
) -> bool:
    """Move an active booking to an ended status once, giving its places back."""
    result = await uow.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(ACTIVE_BOOKING))
        .values(status=status, cancel_reason=reason, ended_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await uow.session.refresh(booking)
    await capacity.release(uow, booking)
    await withdraw_booking_notices(uow, booking)
    return True


async def confirm_booking(uow: UnitOfWork, actor: Actor, booking_id: int) -> Booking:
    """Turn a hold into a booking and queue its confirmation, reminders and preparation.

    Confirming twice is harmless. Raises HoldExpired, Conflict, NotFound.
    """
    booking = await _lock_booking(uow, actor, booking_id)
    if booking.status == BookingStatus.CONFIRMED:
        return booking
    if booking.status != BookingStatus.HELD:
        raise Conflict()
    now = uow.clock.now()
    assert booking.hold_expires_at is not None
    if booking.hold_expires_at <= now:
        raise HoldExpired(minutes=uow.policy.hold_minutes)
    booking.status = BookingStatus.CONFIRMED
    booking.confirmed_at = now
    booking.hold_expires_at = None
    kind = Notice.BOOKING_CONFIRMED
    if booking.replaces_id is not None:
        old = await uow.session.get(Booking, booking.replaces_id, with_for_update=True)
        if old is not None and await _end(uow, old, BookingStatus.RESCHEDULED, "rescheduled"):
            kind = Notice.BOOKING_RESCHEDULED
            await waitlist.offer_freed_place(uow, old)
    if booking.waitlist_id is not None:
        await waitlist.mark_taken(uow, booking)
    await uow.session.flush()
    await schedule_booking_notices(uow, booking, kind)
    moved = kind is Notice.BOOKING_RESCHEDULED
    await outbound.record(
        uow, booking, OutboundKind.MOVED if moved else OutboundKind.BOOKED, actor
    )
    await audit.change(uow, actor, "booking.confirm", "booking", booking.id)
    return booking


async def cancel_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, *, reason: str = "patient"
) -> Booking:
    """Cancel a hold or a booking and offer the freed place to the waitlist.

    Patients and health workers may cancel only up to the policy's notice (default 24 h);
    staff and the operator (the system) always. Raises TooLateToCancel, Conflict, NotFound.
    """
    booking = await _lock_booking(uow, actor, booking_id)
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise Conflict(N_("This appointment can no longer be cancelled."))
    notice = timedelta(hours=uow.policy.patient_cancel_notice_hours)
    confirmed = booking.status == BookingStatus.CONFIRMED
    bound = actor.kind in (ActorKind.PATIENT, ActorKind.HEALTH_WORKER)  # by the notice
    if confirmed and bound and booking.starts_at - uow.clock.now() < notice:
        raise TooLateToCancel(hours=uow.policy.patient_cancel_notice_hours)
    await _end(uow, booking, BookingStatus.CANCELLED, reason)
    if confirmed:
        await outbound.record(uow, booking, OutboundKind.CANCELLED, actor)
    if confirmed and actor.kind is not ActorKind.PATIENT:
        await enqueue(
            uow,
            recipient_kind=ActorKind.PATIENT,
            recipient_id=booking.patient_id,
            kind=Notice.BOOKING_CANCELLED,
            dedup_key=f"booking:{booking.id}:cancelled",
            params=booking_params(booking) | {"by": actor.kind.value},
            booking_id=booking.id,
            urgent=booking.starts_at - uow.clock.now() < timedelta(hours=24),
        )
    await waitlist.offer_freed_place(uow, booking)
    await audit.change(uow, actor, "booking.cancel", "booking", booking.id, reason=reason)
    return booking


async def reschedule_hold(
    uow: UnitOfWork, actor: Actor, booking_id: int, device_id: int, starts_at: datetime
) -> Booking:
    """Hold a new time for a confirmed booking; the old one is freed only on confirmation."""
    booking = await get_booking(uow, actor, booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(N_("Only a confirmed appointment can be moved."))
    notice = timedelta(hours=uow.policy.patient_cancel_notice_hours)
    if not actor.is_staff and booking.starts_at - uow.clock.now() < notice:
        raise TooLateToCancel(hours=uow.policy.patient_cancel_notice_hours)
    return await hold_slot(uow, actor, booking.referral_id, device_id, starts_at)


async def release_expired_holds(uow: UnitOfWork) -> int:
    """Free every hold whose time ran out; lapsed waitlist offers pass to the next in line."""
    expired = list(
        await uow.session.scalars(
            select(Booking).where(
                Booking.status == BookingStatus.HELD,
                Booking.hold_expires_at <= uow.clock.now(),
            )
        )
    )
    released = 0
    for booking in expired:
        if await _end(uow, booking, BookingStatus.EXPIRED, "hold_expired"):
            released += 1
            if booking.waitlist_id is not None:
                await waitlist.mark_lapsed(uow, booking)
            await waitlist.offer_freed_place(uow, booking)
    return released


async def bookings_for_patient(
    uow: UnitOfWork, actor: Actor, patient_id: int, *, upcoming_only: bool = True
) -> list[Booking]:
    """The patient's bookings, soonest first (upcoming confirmed and admitted by default; to
    staff held to some sites, those at their sites)."""
    check_access(actor, await get_patient(uow, patient_id))
    stmt = select(Booking).where(Booking.patient_id == patient_id)
    if actor.sites is not None:
        stmt = stmt.where(
            Booking.device_id.in_(select(Device.id).where(sites.site_devices(actor)))
        )
    if upcoming_only:
        stmt = stmt.where(
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN]),
            Booking.starts_at >= uow.clock.now() - timedelta(hours=12),
        )
    return list(await uow.session.scalars(stmt.order_by(Booking.starts_at)))


async def find_by_code(uow: UnitOfWork, actor: Actor, code: str) -> Booking:
    """Reception looks a booking up by the code the patient reads out."""
    parsed = parse_code(code)
    booking_id = (
        await uow.session.scalar(select(Booking.id).where(Booking.code == parsed))
        if parsed
        else None
    )
    if booking_id is None:
        raise NotFound(N_("No appointment has this code. Please check the digits."))
    return await get_booking(uow, actor, booking_id)
