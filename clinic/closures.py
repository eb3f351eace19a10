"""Closures: a device or the department shut for a range; every affected booking is handled."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select

from clinic import audit, capacity, outbound, sites
from clinic.availability import bookable_times_range, exam_devices, slots_needed
from clinic.codes import unique_booking_code
from clinic.department_setup import DeviceView, department_setup
from clinic.errors import Conflict, InvalidInput, NotAllowed, NotFound, SlotFull
from clinic.i18n import N_
from clinic.jalali import tehran_datetime, to_tehran
from clinic.models import ActorKind, Booking, BookingStatus, Closure, DayOverride, Device, Role
from clinic.outbound_views import OutboundKind
from clinic.outbox import Notice, enqueue
from clinic.reminders import booking_params, schedule_booking_notices, withdraw_booking_notices
from clinic.text import normalize_text

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

MOVABLE = (BookingStatus.HELD, BookingStatus.CONFIRMED)
OPTIONS = 3


@dataclass(frozen=True)
class ClosureRequest:
    """Close a device, or with ``device_id`` None the site ``site_id`` (None: the staff
    member's one site, or every site), for a range."""

    device_id: int | None
    starts_at: datetime
    ends_at: datetime
    reason_fa: str
    reason_en: str = ""
    move: bool | None = None  # None: the policy decides
    site_id: int | None = None


@dataclass
class ClosureResult:
    """What the closure did: how many bookings it touched, moved and could not place."""

    closure_id: int
    affected: int = 0
    moved: int = 0
    cancelled: int = 0
    moved_ids: list[int] = field(default_factory=list)


def _overlapping(
    device_id: int | None, site_id: int | None, starts_at: datetime, ends_at: datetime
) -> Select[tuple[Booking]]:
    stmt = select(Booking).where(
        Booking.status.in_(MOVABLE),
        Booking.starts_at < ends_at,
        Booking.starts_at >= starts_at - timedelta(hours=4),  # long exams may start before
    )
    if device_id is not None:
        stmt = stmt.where(Booking.device_id == device_id)
    elif site_id is not None:
        site_devices = select(Device.id).where(Device.department_id == site_id)
        stmt = stmt.where(Booking.device_id.in_(site_devices))
    return stmt.order_by(Booking.starts_at, Booking.id)


async def affected_bookings(uow: UnitOfWork, request: ClosureRequest) -> list[Booking]:
    """Held and confirmed bookings the closure would touch (for the preview before confirming)."""
    rows = await uow.session.scalars(
        _overlapping(request.device_id, request.site_id, request.starts_at, request.ends_at)
    )
    result = []
    devices = (await department_setup(uow)).devices
    for booking in rows:
        device = devices[booking.device_id]
        end = booking.starts_at + timedelta(minutes=device.slot_minutes * booking.slots)
        if end > request.starts_at:
            result.append(booking)
    return result


async def close(uow: UnitOfWork, actor: Actor, request: ClosureRequest) -> ClosureResult:
    """Record the closure and move (or, failing that, cancel) every booking it hits, with notices.

    Moved patients get the earliest free time for the same exam on any device that performs it;
    those who cannot be placed get a notice with the next free days. None is dropped silently.
    A device's closure, and a site's, is for staff of that site (or university-wide); a whole
    site's names it, or is the closing staff member's one site. Raises NotAllowed (admin
    only), InvalidInput (empty or reversed range, no site said), NotFound (device, site).
    """
    actor = actor.require_role(Role.ADMIN)
    if request.ends_at <= request.starts_at:
        raise InvalidInput(N_("The closure must end after it starts."))
    request = await _placed(uow, actor, request)
    reason_fa = normalize_text(request.reason_fa)
    if not reason_fa:
        raise InvalidInput(N_("Please give the reason patients will see."))
    closure = Closure(
        device_id=request.device_id,
        department_id=request.site_id if request.device_id is None else None,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        reason_fa=reason_fa,
        reason_en=normalize_text(request.reason_en),
        created_by=actor.id if actor.is_staff else None,
        created_at=uow.clock.now(),
    )
    uow.session.add(closure)
    await uow.session.flush()
    result = ClosureResult(closure.id)
    move = uow.policy.closure_move if request.move is None else request.move
    for booking in await affected_bookings(uow, request):
        result.affected += 1
        await _handle(uow, closure, booking, move, result)
    await audit.record(
        uow,
        actor,
        "closure.add",
        "closure",
        closure.id,
        affected=result.affected,
        moved=result.moved,
        cancelled=result.cancelled,
    )
    return result


async def _placed(uow: UnitOfWork, actor: Actor, request: ClosureRequest) -> ClosureRequest:
    """The request with its site settled and checked against what ``actor`` may close."""
    setup = await department_setup(uow)
    if request.device_id is not None:
        device = setup.devices.get(request.device_id)
        if device is None:
            raise NotFound()
        sites.require_site(actor, device.site)
        return replace(request, site_id=device.site)
    site_id = request.site_id
    if site_id is None and actor.sites is not None:
        if len(actor.sites) != 1:
            raise InvalidInput(N_("Please choose the site to close."))
        site_id = next(iter(actor.sites))
    if site_id is not None:
        sites.require_site(actor, site_id)
        if await sites.site(uow, site_id) is None:
            raise NotFound()
    return replace(request, site_id=site_id)


@dataclass(frozen=True)
class Cause:
    """Why bookings leave their time: the reason patients read and what each booking records."""

    reason_fa: str
    reason_en: str
    cancel_reason: str  # "closure", or "setup" (the department file changed hours or places)
    dedup: str  # names this cause in the notices' dedup keys: "closure:12", "setup:…"
    closure_id: int | None = None


async def _handle(
    uow: UnitOfWork, closure: Closure, booking: Booking, move: bool, result: ClosureResult
) -> None:
    cause = Cause(
        closure.reason_fa, closure.reason_en, "closure", f"closure:{closure.id}", closure.id
    )
    was_confirmed = await vacate(uow, booking, cause)
    await rehouse(uow, booking, cause, move=move and was_confirmed, result=result)


async def vacate(uow: UnitOfWork, booking: Booking, cause: Cause) -> bool:
    """Cancel ``booking`` for ``cause`` and give its places back (under the setup it was made
    in); True when it was confirmed (a hold is only let go)."""
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    booking.status = BookingStatus.CANCELLED
    booking.cancel_reason = cause.cancel_reason
    booking.closure_id = cause.closure_id
    booking.ended_at = uow.clock.now()
    await capacity.release(uow, booking)
    await withdraw_booking_notices(uow, booking)
    return was_confirmed


async def rehouse(
    uow: UnitOfWork, booking: Booking, cause: Cause, *, move: bool, result: ClosureResult
) -> None:
    """After ``vacate``: book the earliest free time for the same exam (``move``) with a notice,
    or tell the patient their booking is cancelled and the next free days. None is dropped."""
    new = await _move(uow, booking) if move else None
    reason = {"reason_fa": cause.reason_fa, "reason_en": cause.reason_en}
    urgent = booking.starts_at - uow.clock.now() < timedelta(hours=48)
    if new is not None:
        booking.status = BookingStatus.RESCHEDULED
        result.moved += 1
        result.moved_ids.append(new.id)
        await schedule_booking_notices(
            uow, new, Notice.CLOSURE_MOVED, old_starts_at=booking.starts_at.isoformat(), **reason
        )
        await outbound.record(uow, new, OutboundKind.MOVED)
        return
    result.cancelled += 1
    if booking.confirmed_at is not None:  # a hold was never told to the hospital
        await outbound.record(uow, booking, OutboundKind.CANCELLED)
    options = await _options(uow, booking)
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=booking.patient_id,
        kind=Notice.CLOSURE_CANCELLED,
        dedup_key=f"booking:{booking.id}:{cause.dedup}",
        params=booking_params(booking)
        | reason
        | {"options": options, "referral_id": booking.referral_id},
        booking_id=booking.id,
        urgent=urgent,
    )


async def _options(uow: UnitOfWork, booking: Booking) -> list[str]:
    """The next few free days for the same exam, for the patient to rebook (ISO dates)."""
    first = max(to_tehran(uow.clock.now()).date(), to_tehran(booking.starts_at).date())
    last = first + timedelta(days=uow.policy.horizon_days)
    site = await _site_of(uow, booking)
    times = await bookable_times_range(uow, booking.exam_id, first, last, site=site)
    return [d.isoformat() for d in sorted(times)[:OPTIONS]]


async def _move(uow: UnitOfWork, old: Booking) -> Booking | None:
    """Book the earliest free time for the same exam from the old day on, at the same site,
    or None."""
    first = max(to_tehran(uow.clock.now()).date(), to_tehran(old.starts_at).date())
    site = await _site_of(uow, old)
    times = await bookable_times_range(
        uow, old.exam_id, first, first + timedelta(days=uow.policy.horizon_days), site=site
    )
    exam, devices = await exam_devices(uow, old.exam_id, site=site)
    by_id = {d.id: d for d in devices}
    for day in sorted(times):
        for slot in times[day]:
            device = by_id[slot.device_id]
            if await _try_take(uow, device, slot.starts_at, slots_needed(exam, device)):
                return await _new_booking(
                    uow, old, device, slot.starts_at, slots_needed(exam, device)
                )
    return None


async def _site_of(uow: UnitOfWork, booking: Booking) -> int | None:
    """The site of the booking's device: a booking moves within the site the patient chose."""
    device = (await department_setup(uow)).devices.get(booking.device_id)
    return device.site if device is not None else None


async def _try_take(uow: UnitOfWork, device: DeviceView, starts_at: datetime, count: int) -> bool:
    try:
        async with uow.session.begin_nested():
            await capacity.take(uow, device, starts_at, count)
    except SlotFull:
        return False
    return True


async def _new_booking(
    uow: UnitOfWork, old: Booking, device: DeviceView, starts_at: datetime, count: int
) -> Booking:
    now = uow.clock.now()
    new = Booking(
        code=old.code,  # the patient keeps the code they know
        referral_id=old.referral_id,
        patient_id=old.patient_id,
        exam_id=old.exam_id,
        device_id=device.id,
        starts_at=starts_at,
        slots=count,
        status=BookingStatus.CONFIRMED,
        replaces_id=old.id,
        created_by=ActorKind.SYSTEM,
        channel=old.channel,  # how the patient first booked it
        created_at=now,
        confirmed_at=now,
    )
    old.code = await unique_booking_code(uow)  # the cancelled row gives its code up
    await uow.session.flush()
    uow.session.add(new)
    await uow.session.flush()
    return new


async def closures_ahead(
    uow: UnitOfWork, limit: int = 20, actor: Actor | None = None
) -> list[Closure]:
    """Closures not cancelled that have not ended yet, soonest first (with ``actor``: of the
    sites they may see, and every site's)."""
    stmt = (
        select(Closure)
        .outerjoin(Device, Device.id == Closure.device_id)
        .where(Closure.cancelled_at.is_(None), Closure.ends_at > uow.clock.now())
        .order_by(Closure.starts_at)
        .limit(limit)
    )
    if actor is not None and actor.sites is not None:
        site = func.coalesce(Device.department_id, Closure.department_id)
        stmt = stmt.where(site.is_(None) | sites.in_scope(actor, site))
    return list(await uow.session.scalars(stmt))


async def closure_site(uow: UnitOfWork, closure: Closure) -> int | None:
    """The site a closure shuts (of its device, or its own; None: every site)."""
    if closure.device_id is None:
        return closure.department_id
    return await sites.device_site(uow, closure.device_id)


async def cancel_closure(uow: UnitOfWork, actor: Actor, closure_id: int) -> None:
    """Re-open what a closure shut (bookings already moved stay where they are). Raises
    NotFound (also for another site's closure, or every site's to staff of some)."""
    actor = actor.require_role(Role.ADMIN)
    closure = await uow.session.get(Closure, closure_id)
    if closure is None:
        raise NotFound()
    sites.require_site(actor, await closure_site(uow, closure))
    if closure.cancelled_at is not None:
        raise Conflict(N_("This closure has already been lifted."))
    closure.cancelled_at = uow.clock.now()
    await audit.record(uow, actor, "closure.cancel", "closure", closure.id)


async def set_day(
    uow: UnitOfWork, actor: Actor, day: date, *, is_open: bool, note: str = ""
) -> ClosureResult | None:
    """Staff re-open a day the holiday calendar closes, or close one it leaves open.

    Closing a day is a department closure of that day, so its bookings are moved with notices.
    The holiday calendar is every site's: staff held to some sites may close a day of theirs
    (a closure) but not change the calendar (NotAllowed).
    """
    actor = actor.require_role(Role.ADMIN)
    if actor.sites is not None and (is_open or len(actor.sites) != 1):
        raise NotAllowed()
    result = None
    if not is_open:
        start = tehran_datetime(day, time.min)
        request = ClosureRequest(None, start, start + timedelta(days=1), note or "تعطیل رسمی")
        result = await close(uow, actor, request)
        if actor.sites is not None:
            return result  # their site's closure of the day; the calendar stays every site's
    row = await uow.session.get(DayOverride, day)
    if row is None:
        row = DayOverride(day=day, is_open=is_open)
        uow.session.add(row)
    row.is_open = is_open
    row.note = normalize_text(note)
    row.created_by = actor.id if actor.is_staff else None
    action = "day.open" if is_open else "day.close"
    await audit.record(uow, actor, action, "day", None, day=day.isoformat())
    return result
