"""``radyar department check|import|export`` and ``radyar devices list``: the setup."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clinic import sites
from clinic.department_export import export_department
from clinic.department_file import WEEKDAYS, DepartmentFileError
from clinic.department_import import DepartmentImport, StrandedBookings, import_department
from clinic.department_setup import department_setup
from clinic.jalali import format_datetime
from radyar.app import build_app
from radyar.people_cmd import OPERATOR, out

if TYPE_CHECKING:
    import argparse

    from clinic.department_import import Stranded
    from clinic.setup_views import DeviceView
    from radyar.settings import Settings

EXIT_BAD_INPUT = 2
MOVE_HINT = (
    "to move them to the earliest free times, each patient told (as a closure does), "
    "run again with --move-bookings"
)


def _fmt(path: str) -> str:
    """CSV for a ``.csv`` file (the devices only), else YAML."""
    return "csv" if path.lower().endswith(".csv") else "yaml"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"radyar: cannot read {path}: {exc.strerror}\n")
    except UnicodeDecodeError:
        sys.stderr.write(f"radyar: {path} is not UTF-8 text; save it as UTF-8\n")
    return None


def _problems(path: str, error: DepartmentFileError) -> int:
    for line, problem in error.problems:
        sys.stderr.write(f"{path}:{line}: {problem}\n")
    sys.stderr.write("radyar: nothing was imported\n")
    return EXIT_BAD_INPUT


def _stranded_lines(stranded: list[Stranded]) -> list[str]:
    return [
        f"  booking {s.code} on {s.device} at {format_datetime(s.starts_at, 'en')}: {s.why}"
        for s in stranded
    ]


def _summary(result: DepartmentImport, verb: str) -> None:
    out(
        f"devices: {len(result.created)} {verb}, {len(result.changed)} changed, "
        f"{len(result.unchanged)} unchanged; closed ranges added: {result.closures}"
    )
    for code in result.created:
        out(f"  {code}: new")
    for line in result.changes:
        out(f"  {line}")


async def department_check(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar department check FILE``: every problem with its line; what an import would do."""
    text = _read(args.file)
    if text is None:
        return EXIT_BAD_INPUT
    try:
        async with build_app(settings) as app, app.uow() as uow:
            result = await import_department(
                uow, OPERATOR, text, move=True, dry_run=True, fmt=_fmt(args.file)
            )
            await uow.rollback()
    except DepartmentFileError as error:
        for line, problem in error.problems:
            sys.stderr.write(f"{args.file}:{line}: {problem}\n")
        return EXIT_BAD_INPUT
    out(f"{args.file}: the file is good")
    _summary(result, "to add")
    if result.stranded:
        out(f"an import would strand {len(result.stranded)} booking(s):")
        for booking in _stranded_lines(result.stranded):
            out(booking)
        out(MOVE_HINT)
    return 0


async def department_import(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar department import FILE [--move-bookings]``: all or nothing."""
    text = _read(args.file)
    if text is None:
        return EXIT_BAD_INPUT
    try:
        async with build_app(settings) as app, app.uow() as uow:
            result = await import_department(
                uow, OPERATOR, text, move=args.move_bookings, fmt=_fmt(args.file)
            )
            await uow.commit()
    except DepartmentFileError as error:
        return _problems(args.file, error)
    except StrandedBookings as error:
        sys.stderr.write(f"radyar: {len(error.stranded)} booking(s) would lose their time:\n")
        for line in _stranded_lines(error.stranded):
            sys.stderr.write(line + "\n")
        sys.stderr.write(f"radyar: nothing was imported; {MOVE_HINT}\n")
        return EXIT_BAD_INPUT
    _summary(result, "added")
    if result.moved or result.cancelled:
        out(
            f"bookings: {result.moved} moved, {result.cancelled} cancelled "
            "(no free time left); every patient has a notice queued"
        )
    return 0


async def department_export(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar department export [FILE]``: the department as a file (standard output: -)."""
    async with build_app(settings) as app, app.uow() as uow:
        text = await export_department(uow, fmt="csv" if args.csv else "yaml", site=args.site)
    if args.file in (None, "-"):
        sys.stdout.write(text)
        return 0
    if not _write(args.file, text):
        return EXIT_BAD_INPUT
    out(f"department written to {args.file}")
    return 0


def _write(path: str, text: str) -> bool:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"radyar: cannot write {path}: {exc.strerror}\n")
        return False
    return True


def _hours(device: DeviceView) -> str:
    by_day: dict[int, list[str]] = {}
    for shift in device.hours:
        by_day.setdefault(shift.weekday, []).append(f"{shift.starts:%H:%M}-{shift.ends:%H:%M}")
    groups: dict[tuple[str, ...], list[str]] = {}
    for day in sorted(by_day):
        groups.setdefault(tuple(by_day[day]), []).append(WEEKDAYS[day])
    return "; ".join(f"{','.join(days)} {' '.join(h)}" for h, days in groups.items()) or "no hours"


async def sites_list(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar sites list``: each site's key, name, county, HIS name, phone and devices."""
    async with build_app(settings) as app, app.uow() as uow:
        found = await sites.all_sites(uow)
        setup = await department_setup(uow)
    for site in found:
        devices = sorted(d.code for d in setup.devices.values() if d.site == site.id and d.active)
        out(f"{site.id:>3}  {site.key}  {site.name('en')}")
        his = site.his_facility or "-"
        out(f"     county: {site.county or '-'}; HIS: {his}; phone: {site.details.phone}")
        out(f"     devices: {', '.join(devices) or '-'}")
    return 0


async def devices_list(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar devices list``: each device's room, slots, places kept back and hours."""
    async with build_app(settings) as app, app.uow() as uow:
        setup = await department_setup(uow)
        keys = {s.id: s.key for s in await sites.all_sites(uow)}
    for device in sorted(setup.devices.values(), key=lambda d: d.code):
        state = "" if device.active else "  (retired)"
        floor = f", floor {device.floor}" if device.floor is not None else ""
        out(f"{device.code:<8} {device.modality:<4} {device.name_en or device.name_fa}{state}")
        if len(keys) > 1:
            out(f"         site: {keys.get(device.site or 0, '-')}")
        out(f"         room: {device.room_en or device.room}{floor}")
        kept = ", ".join(f"{k.places} per {k.per} for {k.keep}" for k in device.kept)
        out(
            f"         slots of {device.slot_minutes} min, {device.places_per_slot} place(s)"
            + (f"; kept back: {kept}" if kept else "")
        )
        out(f"         hours: {_hours(device)}")
    return 0
