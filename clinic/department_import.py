"""Import a department file: all or nothing, checked against the catalogue and the bookings.

An import that would strand bookings already made (a shift removed, fewer places, a slot
length changed, an exam taken off a device, a device retired, a new closed range over them)
lists them and changes nothing, unless told to move them: then each is moved to the earliest
free time for its exam, with a notice, as a closure does (or cancelled with the next free days
when none is left). Devices are matched by code; a device in the database must stay in the file
(``active: false`` retires it), so that ``export`` and ``import`` round-trip.

Sites (departments of hospitals) are matched by hospital and department code. A file changes
the sites it names and leaves every other site's devices and closures alone, so a university
may keep one file per site or one for all; device codes are the university's (unique across
sites), and a device stays at its site.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic import audit, closures
from clinic.closures import Cause, ClosureRequest, ClosureResult
from clinic.department_export import department_names
from clinic.department_file import (
    ALL_EXAMS,
    SITE_DETAILS,
    ClosedSpec,
    DepartmentFileError,
    DepartmentSpec,
    DeviceSpec,
    HospitalSpec,
    parse_department_file,
)
from clinic.department_slots import resync_slots
from clinic.errors import ClinicError
from clinic.i18n import N_
from clinic.jalali import iran_weekday, to_tehran
from clinic.models import (
    Booking,
    BookingStatus,
    Closure,
    Department,
    Device,
    DeviceExam,
    Exam,
    KeptPlaces,
    Role,
    WorkingHours,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from clinic.actors import Actor
    from clinic.catalogue_files import Problem
    from clinic.uow import UnitOfWork

ACTIVE = (BookingStatus.HELD, BookingStatus.CONFIRMED)
SETUP_REASON_FA = "برنامهٔ کاری دستگاه در بخش تغییر کرد"
SETUP_REASON_EN = "the department changed the device's working hours"
NEW_CLOSURE = "a new closed range"
_KEEP_IT = "keep it in the file (active: false retires it)"
MIGRATED = ("hospital", "radiology")  # the codes migration 0015 gave a department without a file


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


@dataclass
class DepartmentImport:
    """What an import did (or, checked only, would do)."""

    created: list[str] = field(default_factory=list)  # device codes
    changed: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # "CT-1: shifts, places per slot"
    unchanged: list[str] = field(default_factory=list)
    closures: int = 0  # closed ranges added
    stranded: list[Stranded] = field(default_factory=list)
    moved: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class _Place:
    hospital: HospitalSpec
    department: DepartmentSpec
    row: Department | None  # the site on record (None: the import adds it)


@dataclass(frozen=True)
class _Plan:
    places: tuple[_Place, ...]
    exams: dict[str, tuple[int, str]]  # code: id, modality
    devices: dict[str, Device]  # the database's of the file's sites, by code

    @property
    def specs(self) -> dict[str, DeviceSpec]:
        """The file's devices, by code."""
        return {d.code: d for p in self.places for d in p.department.devices}


async def import_department(
    uow: UnitOfWork,
    actor: Actor,
    text: str,
    *,
    move: bool = False,
    dry_run: bool = False,
    fmt: str = "yaml",
) -> DepartmentImport:
    """Check ``text`` and (unless ``dry_run``) write it; the caller commits.

    Raises DepartmentFileError (every problem, with its line) or StrandedBookings (without
    ``move``); NotAllowed unless the actor is an admin (or the operator).
    """
    actor = actor.require_role(Role.ADMIN)
    plan = await _plan(uow, text, fmt)
    result = DepartmentImport()
    wanted = {code: _exam_ids(spec, plan) for code, spec in plan.specs.items()}
    for spec in plan.specs.values():
        device = plan.devices.get(spec.code)
        if device is None:
            result.created.append(spec.code)
            continue
        changes = await _changes(uow, device, spec, wanted[spec.code])
        if changes:
            result.changed.append(spec.code)
            result.changes.append(f"{spec.code}: {', '.join(changes)}")
        else:
            result.unchanged.append(spec.code)
    new_closed = await _new_closed(uow, plan)
    result.stranded = await _stranded(uow, plan, wanted, new_closed)
    result.closures = len(new_closed)
    if result.stranded and not move:
        raise StrandedBookings(result.stranded)
    if not dry_run:
        await _write(uow, actor, plan, wanted, new_closed, result)
    return result


async def _plan(uow: UnitOfWork, text: str, fmt: str) -> _Plan:
    names = await department_names(uow) if fmt == "csv" else None
    hospitals, problems = parse_department_file(text, fmt=fmt, names=names)
    if problems or not hospitals:
        raise DepartmentFileError(problems or [(1, "the file names no hospital")])
    places = await _places(uow, hospitals)
    rows = await uow.session.execute(select(Exam.code, Exam.id, Exam.modality, Exam.active))
    exams = {code: (exam_id, str(modality)) for code, exam_id, modality, active in rows if active}
    every = {d.code: d for d in await uow.session.scalars(select(Device))}
    ours = {p.row.id for p in places if p.row is not None}
    lone = (
        len(places) == 1
        and (await uow.session.scalar(select(func.count(Department.id))) or 0) <= 1
    )
    site_of = {d.code: p for p in places for d in p.department.devices}
    keys = {row.id: f"{row.hospital_code}/{row.code}" for row in await _rows(uow)}
    for code, device in every.items():
        place, at = site_of.get(code), device.department_id
        if place is None and (at in ours or (at is None and lone)):
            problems.append(
                (1, f"device {code} is in the database but not in the file: {_KEEP_IT}")
            )
        elif place is not None and at is not None and (place.row is None or at != place.row.id):
            spec = next(d for d in place.department.devices if d.code == code)
            there = keys.get(at, "another site")
            problems.append((spec.line, f"device {code} is {there}'s: a device stays at its site"))
    for place in places:
        _check_exams(place.department, exams, problems)
    if problems:
        raise DepartmentFileError(problems)
    devices = {code: d for code, d in every.items() if code in site_of}
    return _Plan(places, exams, devices)


def _check_exams(
    department: DepartmentSpec, exams: dict[str, tuple[int, str]], problems: list[Problem]
) -> None:
    for spec in department.devices:
        for code, line in zip(spec.exams or (), spec.exam_lines, strict=True):
            if code not in exams:
                problems.append((line, f"there is no exam {code} in the catalogue"))
            elif exams[code][1] != spec.modality:
                problems.append((line, f"exam {code} is {exams[code][1]}, not {spec.modality}"))


async def _rows(uow: UnitOfWork) -> list[Department]:
    return list(await uow.session.scalars(select(Department).order_by(Department.id)))


async def _places(uow: UnitOfWork, hospitals: tuple[HospitalSpec, ...]) -> tuple[_Place, ...]:
    """The file's sites, each with its row on record. A file naming one site under other codes
    than the only site on record renames it when it lists that site's devices (or the site
    still has the codes the migration gave it); otherwise it adds a site."""
    rows = await _rows(uow)
    by_key = {(r.hospital_code, r.code): r for r in rows}
    named = [(h, d) for h in hospitals for d in h.departments]
    if len(named) == 1 and len(rows) == 1 and (named[0][0].code, named[0][1].code) not in by_key:
        only = rows[0]
        theirs = set(
            await uow.session.scalars(
                select(Device.code).where(
                    (Device.department_id == only.id) | Device.department_id.is_(None)
                )
            )
        )
        listed = {d.code for d in named[0][1].devices}
        if listed & theirs or (only.hospital_code, only.code) == MIGRATED:
            return (_Place(named[0][0], named[0][1], only),)
    return tuple(_Place(h, d, by_key.get((h.code, d.code))) for h, d in named)


def _exam_ids(spec: DeviceSpec, plan: _Plan) -> set[int]:
    if spec.exams is None:
        return {i for i, modality in plan.exams.values() if modality == spec.modality}
    return {plan.exams[code][0] for code in spec.exams}


async def _changes(
    uow: UnitOfWork, device: Device, spec: DeviceSpec, exams: set[int]
) -> list[str]:
    fields = {
        "names": (device.name_fa, device.name_en) != (spec.name_fa, spec.name_en),
        "room": (device.room, device.room_en, device.floor)
        != (spec.room_fa, spec.room_en, spec.floor),
        "modality": device.modality != spec.modality,
        "slot length": device.slot_minutes != spec.slot_minutes,
        "places per slot": device.places_per_slot != spec.places_per_slot,
        "active": device.active != spec.active,
        "shifts": await _shifts(uow, device.id) != _spec_shifts(spec),
        "exams": await _device_exams(uow, device.id) != exams,
        "kept back": await _kept(uow, device.id) != {(k.keep, k.per, k.places) for k in spec.kept},
    }  # fmt: skip
    return [name for name, changed in fields.items() if changed]


async def _shifts(uow: UnitOfWork, device_id: int) -> set[tuple[int, time, time]]:
    rows = await uow.session.execute(
        select(WorkingHours.weekday, WorkingHours.starts, WorkingHours.ends).where(
            WorkingHours.device_id == device_id
        )
    )
    return set(rows.tuples())


def _spec_shifts(spec: DeviceSpec) -> set[tuple[int, time, time]]:
    return {(s.weekday, s.starts, s.ends) for s in spec.shifts}


async def _device_exams(uow: UnitOfWork, device_id: int) -> set[int]:
    rows = await uow.session.scalars(
        select(DeviceExam.exam_id).where(DeviceExam.device_id == device_id)
    )
    return set(rows)


async def _kept(uow: UnitOfWork, device_id: int) -> set[tuple[str, str, int]]:
    rows = await uow.session.execute(
        select(KeptPlaces.keep, KeptPlaces.per, KeptPlaces.places).where(
            KeptPlaces.device_id == device_id
        )
    )
    return {(str(k), str(p), n) for k, p, n in rows}


async def _new_closed(uow: UnitOfWork, plan: _Plan) -> list[tuple[_Place, ClosedSpec]]:
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


def _site_key(place: _Place, closed: ClosedSpec) -> int | None:
    return None if closed.device or place.row is None else place.row.id


def _request(spec: ClosedSpec, device_ids: dict[str, int], site_id: int | None) -> ClosureRequest:
    device_id = device_ids[spec.device] if spec.device else None
    return ClosureRequest(
        device_id, spec.starts_at, spec.ends_at, spec.reason_fa, spec.reason_en, move=True,
        site_id=site_id,
    )  # fmt: skip


async def _stranded(
    uow: UnitOfWork,
    plan: _Plan,
    wanted: dict[str, set[int]],
    new: list[tuple[_Place, ClosedSpec]],
) -> list[Stranded]:
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


def _requests(place: _Place, closed: ClosedSpec, known: dict[str, int]) -> list[ClosureRequest]:
    """What the closed range would close of what is on record (a device or a site this import
    adds has no bookings yet; a site it adds may take over devices set up before sites)."""
    if closed.device is not None:
        return [_request(closed, known, None)] if closed.device in known else []
    if place.row is not None:
        return [_request(closed, known, place.row.id)]
    whole = _request(closed, known, None)
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


async def _write(
    uow: UnitOfWork,
    actor: Actor,
    plan: _Plan,
    wanted: dict[str, set[int]],
    new_closed: list[tuple[_Place, ClosedSpec]],
    result: DepartmentImport,
) -> None:
    stamp = f"setup:{uow.clock.now():%Y%m%d%H%M%S}"
    cause = Cause(SETUP_REASON_FA, SETUP_REASON_EN, "setup", stamp)
    vacated: list[tuple[Booking, bool]] = []
    for stranded in result.stranded:
        if stranded.why != NEW_CLOSURE:  # those the closure itself moves, below
            booking = await uow.session.get_one(Booking, stranded.booking_id)
            vacated.append((booking, await closures.vacate(uow, booking, cause)))
    site_ids = [await _write_site(uow, place) for place in plan.places]
    device_ids = await _write_devices(uow, plan, site_ids, wanted)
    await resync_slots(uow, [device_ids[code] for code in (*result.created, *result.changed)])
    moves = ClosureResult(0)
    for booking, was_confirmed in vacated:
        await closures.rehouse(uow, booking, cause, move=was_confirmed, result=moves)
    for place, closed in new_closed:
        site_id = site_ids[plan.places.index(place)]
        done = await closures.close(uow, actor, _request(closed, device_ids, site_id))
        moves.moved += done.moved
        moves.cancelled += done.cancelled
    result.moved, result.cancelled = moves.moved, moves.cancelled
    await audit.record(
        uow, actor, "department.import", "department", None,
        created=len(result.created), changed=len(result.changed), closures=result.closures,
        moved=result.moved, cancelled=result.cancelled,
    )  # fmt: skip


async def _write_site(uow: UnitOfWork, place: _Place) -> int:
    row = place.row
    if row is None:
        row = Department()
        uow.session.add(row)
    h, d = place.hospital, place.department
    row.hospital_code, row.hospital_name_fa, row.hospital_name_en = h.code, h.name_fa, h.name_en
    row.code, row.name_fa, row.name_en = d.code, d.name_fa, d.name_en
    row.county, row.his_facility, row.orthanc_url = h.county, h.his_facility, h.orthanc_url
    for name in SITE_DETAILS:
        setattr(row, name, d.detail(name))
    await uow.session.flush()
    return row.id


async def _write_devices(
    uow: UnitOfWork, plan: _Plan, site_ids: list[int], wanted: dict[str, set[int]]
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for place, site_id in zip(plan.places, site_ids, strict=True):
        for spec in place.department.devices:
            ids[spec.code] = await _write_device(uow, plan, spec, site_id, wanted)
    await uow.session.flush()
    return ids


async def _write_device(
    uow: UnitOfWork, plan: _Plan, spec: DeviceSpec, site_id: int, wanted: dict[str, set[int]]
) -> int:
    device = plan.devices.get(spec.code)
    if device is None:
        device = Device(code=spec.code)
        uow.session.add(device)
    device.department_id = site_id
    device.name_fa, device.name_en, device.modality = spec.name_fa, spec.name_en, spec.modality
    device.room, device.room_en, device.floor = spec.room_fa, spec.room_en, spec.floor
    device.slot_minutes, device.places_per_slot = spec.slot_minutes, spec.places_per_slot
    device.active = spec.active
    await uow.session.flush()
    if await _shifts(uow, device.id) != _spec_shifts(spec):
        await _replace(uow, WorkingHours, device.id, [
            WorkingHours(device_id=device.id, weekday=s.weekday, starts=s.starts, ends=s.ends)
            for s in spec.shifts
        ])  # fmt: skip
    if await _device_exams(uow, device.id) != wanted[spec.code]:
        await _replace(uow, DeviceExam, device.id, [
            DeviceExam(device_id=device.id, exam_id=e) for e in sorted(wanted[spec.code])
        ])  # fmt: skip
    if await _kept(uow, device.id) != {(k.keep, k.per, k.places) for k in spec.kept}:
        await _replace(uow, KeptPlaces, device.id, [
            KeptPlaces(device_id=device.id, keep=k.keep, per=k.per, places=k.places)
            for k in spec.kept
        ])  # fmt: skip
    return device.id


async def _replace(
    uow: UnitOfWork,
    model: type[WorkingHours | DeviceExam | KeptPlaces],
    device_id: int,
    rows: list[object],
) -> None:
    for old in await uow.session.scalars(select(model).where(model.device_id == device_id)):
        await uow.session.delete(old)
    await uow.session.flush()
    uow.session.add_all(rows)


__all__ = ["ALL_EXAMS", "DepartmentImport", "Stranded", "StrandedBookings", "import_department"]
