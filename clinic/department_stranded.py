"""Bookings a department import would strand (a shift removed, fewer places, a slot length
changed, an exam taken off a device, a device retired, a new closed range over them), and the
file's closed ranges not yet on record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import closures
from clinic.closures import ClosureRequest
from clinic.errors import ClinicError
from clinic.i18n import N_
from clinic.jalali import iran_weekday, to_tehran
from clinic.models import Booking, BookingStatus, Closure, Device

if TYPE_CHECKING:
    from collections.abc import Iterable

    from clinic.department_file import ClosedSpec, DeviceSpec
    from clinic.department_plan import Place, Plan
    from clinic.uow import UnitOfWork

ACTIVE = (BookingStatus.HELD, BookingStatus.CONFIRMED)
NEW_CLOSURE = "a new closed range"


@dataclass(frozen=True)
class Stranded:
    """A booking the new setup has no room for, and why."""

    booking_id: int
    code: str
    device: str
    starts_at: datetime
    why: str


class StrandedBookings(ClinicError):
    """The import would strand bookings; nothing was changed."""

    code = "department_strands_bookings"
    message = N_("{count} booking(s) would lose their time; nothing was imported.")

    def __init__(self, stranded: list[Stranded]) -> None:
        self.stranded = stranded
        super().__init__(count=len(stranded))


async def closed_to_add(uow: UnitOfWork, plan: Plan) -> list[tuple[Place, ClosedSpec]]:
    """The file's closed ranges not yet recorded (a closure is matched by site, device and
    range), each with its site."""
    rows = await uow.session.execute(
        select(Closure.device_id, Closure.department_id, Closure.starts_at, Closure.ends_at).where(
            Closure.cancelled_at.is_(None)
        )
    )
    codes = {d.id: code for code, d in plan.devices.items()}
    sites: list[int | None] = [p.row.id for p in plan.places if p.row is not None]
    existing: set[tuple[str | None, int | None, datetime, datetime]] = set()
    for d, site, s, e in rows:  # a device's is known by its code; one of every site is each's
        for at in [None] if d else [site] if site else [*sites, None]:
            existing.add((codes.get(d) if d else None, at, s, e))
    return [
        (place, c)
        for place in plan.places
        for c in place.department.closed
        if (c.device, _site_key(place, c), c.starts_at, c.ends_at) not in existing
    ]


def _site_key(place: Place, closed: ClosedSpec) -> int | None:
    return None if closed.device or place.row is None else place.row.id


def closure_request(
    spec: ClosedSpec, device_ids: dict[str, int], site_id: int | None
) -> ClosureRequest:
    """The closure a closed range of the file makes (its bookings moved, not cancelled)."""
    device_id = device_ids[spec.device] if spec.device else None
    return ClosureRequest(
        device_id, spec.starts_at, spec.ends_at, spec.reason_fa, spec.reason_en, move=True,
        site_id=site_id,
    )  # fmt: skip


async def stranded_by(
    uow: UnitOfWork,
    plan: Plan,
    wanted: dict[str, set[int]],
    new: list[tuple[Place, ClosedSpec]],
) -> list[Stranded]:
    """The bookings ahead the plan has no room for (devices ``wanted`` doing those exams, the
    ``new`` closed ranges), soonest first."""
    now = uow.clock.now()
    by_id = {d.id: d for d in plan.devices.values()}
    specs = plan.specs
    bookings = list(
        await uow.session.scalars(
            select(Booking)
            .where(
                Booking.status.in_(ACTIVE),
                Booking.starts_at >= now,
                Booking.device_id.in_(sorted(by_id)),
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )
    found: dict[int, Stranded] = {}
    used: dict[tuple[int, datetime], int] = {}
    for booking in bookings:
        device = by_id[booking.device_id]
        spec = specs[device.code]
        why = _misfit(booking, device, spec, wanted[device.code])
        for start in _slot_starts(booking, device):
            used[(device.id, start)] = used.get((device.id, start), 0) + 1
            if why is None and used[(device.id, start)] > spec.places_per_slot:
                why = "fewer places per slot"
        if why is not None:
            found[booking.id] = Stranded(
                booking.id, booking.code, device.code, booking.starts_at, why
            )
    known = {code: d.id for code, d in plan.devices.items()}
    for place, closed in new:
        for request in _requests(place, closed, known):
            for booking in await closures.affected_bookings(uow, request):
                if booking.id not in found:
                    device = by_id[booking.device_id]
                    found[booking.id] = Stranded(
                        booking.id, booking.code, device.code, booking.starts_at, NEW_CLOSURE
                    )
    return sorted(found.values(), key=lambda s: (s.starts_at, s.booking_id))


def _requests(place: Place, closed: ClosedSpec, known: dict[str, int]) -> list[ClosureRequest]:
    """What the closed range would close of what is on record (a device or a site this import
    adds has no bookings yet; a site it adds may take over devices set up before sites)."""
    if closed.device is not None:
        return [closure_request(closed, known, None)] if closed.device in known else []
    if place.row is not None:
        return [closure_request(closed, known, place.row.id)]
    whole = closure_request(closed, known, None)
    codes = [d.code for d in place.department.devices if d.code in known]
    return [replace(whole, device_id=known[code]) for code in codes]


def _misfit(booking: Booking, device: Device, spec: DeviceSpec, exams: set[int]) -> str | None:
    if not spec.active:
        return "the device is retired"
    if booking.exam_id not in exams:
        return "the device no longer performs this exam"
    if spec.slot_minutes != device.slot_minutes:
        return "the slot length changed"
    local = to_tehran(booking.starts_at)
    start = local.hour * 60 + local.minute
    end = start + booking.slots * spec.slot_minutes
    for shift in spec.shifts:
        first = shift.starts.hour * 60 + shift.starts.minute
        last = shift.ends.hour * 60 + shift.ends.minute
        day_fits = shift.weekday == iran_weekday(local.date())
        if (
            day_fits
            and first <= start
            and end <= last
            and (start - first) % spec.slot_minutes == 0
        ):
            return None
    return "outside the new working hours"


def _slot_starts(booking: Booking, device: Device) -> Iterable[datetime]:
    step = timedelta(minutes=device.slot_minutes)
    return (booking.starts_at + step * i for i in range(booking.slots))
