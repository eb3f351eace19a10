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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import audit, closures
from clinic.closures import Cause, ClosureResult
from clinic.department_file import ALL_EXAMS, SITE_DETAILS, DeviceSpec
from clinic.department_plan import Place, Plan, plan_import
from clinic.department_slots import resync_slots
from clinic.department_stranded import (
    NEW_CLOSURE,
    Stranded,
    StrandedBookings,
    closed_to_add,
    closure_request,
    stranded_by,
)
from clinic.models import Booking, Department, Device, DeviceExam, KeptPlaces, Role, WorkingHours

if TYPE_CHECKING:
    from datetime import time

    from clinic.actors import Actor
    from clinic.department_file import ClosedSpec
    from clinic.uow import UnitOfWork

SETUP_REASON_FA = "برنامهٔ کاری دستگاه در بخش تغییر کرد"
SETUP_REASON_EN = "the department changed the device's working hours"


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
    plan = await plan_import(uow, text, fmt)
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
    new_closed = await closed_to_add(uow, plan)
    result.stranded = await stranded_by(uow, plan, wanted, new_closed)
    result.closures = len(new_closed)
    if result.stranded and not move:
        raise StrandedBookings(result.stranded)
    if not dry_run:
        await _write(uow, actor, plan, wanted, new_closed, result)
    return result


def _exam_ids(spec: DeviceSpec, plan: Plan) -> set[int]:
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


async def _write(
    uow: UnitOfWork,
    actor: Actor,
    plan: Plan,
    wanted: dict[str, set[int]],
    new_closed: list[tuple[Place, ClosedSpec]],
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
        done = await closures.close(uow, actor, closure_request(closed, device_ids, site_id))
        moves.moved += done.moved
        moves.cancelled += done.cancelled
    result.moved, result.cancelled = moves.moved, moves.cancelled
    await audit.record(
        uow, actor, "department.import", "department", None,
        created=len(result.created), changed=len(result.changed), closures=result.closures,
        moved=result.moved, cancelled=result.cancelled,
    )  # fmt: skip


async def _write_site(uow: UnitOfWork, place: Place) -> int:
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
    uow: UnitOfWork, plan: Plan, site_ids: list[int], wanted: dict[str, set[int]]
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for place, site_id in zip(plan.places, site_ids, strict=True):
        for spec in place.department.devices:
            ids[spec.code] = await _write_device(uow, plan, spec, site_id, wanted)
    await uow.session.flush()
    return ids


async def _write_device(
    uow: UnitOfWork, plan: Plan, spec: DeviceSpec, site_id: int, wanted: dict[str, set[int]]
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
