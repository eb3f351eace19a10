"""What each ``radyar`` subcommand does, over the clinic use cases."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from clinic import availability, catalogue, closures, migrate, no_shows, patients, sites
from clinic import demo as demo_data
from clinic.actors import Actor
from clinic.department_setup import department_setup
from clinic.errors import InvalidInput, NotFound
from clinic.i18n import N_, translator
from clinic.jalali import (
    format_date,
    format_time,
    parse_jalali_date,
    tehran_datetime,
    to_tehran,
)
from clinic.text import normalize_digits, to_persian_digits
from radyar.app import App, build_app, prepare_data_dir
from radyar.botrun import run_forever
from radyar.demo_chat import run_demo_chat
from radyar.demo_web.run import run_web_demo
from radyar.hospitalrun import fit_open_files, poll_orthanc, serve_mllp
from radyar.housekeeping import day_end, housekeeping
from radyar.outbound_run import run_outbound
from radyar.outbox_run import run_worker, serve_http
from radyar.sending import send_budgets
from radyar.settings import Settings, mask_url
from radyar.sms_inbound_run import poll_sms_inbound
from radyar.worklist_run import serve_worklist

if TYPE_CHECKING:
    import argparse

    from clinic.setup_views import ExamView

OPERATOR = Actor.system()
DEMO_CHAT = N_(
    "A patient's conversation with the bot (the real bot, over the Bot API sandbox on 127.0.0.1):"
)  # the person at the server's terminal; audited as "system"


def out(line: str = "") -> None:
    """Write one line to standard output (the command's result, not a log)."""
    sys.stdout.write(line + "\n")


def _digits(text: str, lang: str) -> str:
    return to_persian_digits(text) if lang == "fa" else text


async def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar db upgrade [REV]``."""
    prepare_data_dir(settings)
    await migrate.upgrade(settings.database_url, args.revision)
    out(f"database at {mask_url(settings.database_url)} is at revision {args.revision}")
    return 0


async def db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar db downgrade REV``."""
    await migrate.downgrade(settings.database_url, args.revision)
    out(f"database downgraded to {args.revision}")
    return 0


async def seed(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar seed --demo``: the demo department (idempotent)."""
    async with build_app(settings) as app, app.uow() as uow:
        summary = await demo_data.seed_demo(uow)
        await uow.commit()
    s = summary
    if not any(vars(s).values()):
        out("demo department: already complete, nothing added")
        return 0
    out(
        "demo department seeded:\n"
        f"  exams: {s.exams_created} added, {s.exams_updated} changed;"
        f" screening questions: {s.questions}\n"
        f"  devices: {s.devices}; device-exam links: {s.device_exams}\n"
        f"  staff: {s.staff}; health houses: {s.health_houses};"
        f" health workers: {s.health_workers}"
    )
    return 0


async def exams_import(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar exams import FILE``: all or nothing, with line-precise errors."""
    try:
        async with build_app(settings) as app, app.uow() as uow:
            result = await catalogue.import_catalogue(uow, args.file)
            await uow.commit()
    except catalogue.CatalogueError as exc:
        for line, problem in exc.problems:
            sys.stderr.write(f"{args.file}:{line}: {problem}\n")
        sys.stderr.write("radyar: nothing was imported\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"radyar: cannot read {args.file}: {exc.strerror}\n")
        return 2
    out(
        f"imported: exams {result.created} added, {result.updated} changed,"
        f" {result.unchanged} unchanged; screening questions written: {result.questions}"
    )
    return 0


async def exams_list(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar exams list``."""
    async with build_app(settings) as app, app.uow() as uow:
        setup = await department_setup(uow)
        wanted = args.modality.upper() if args.modality else None
        exams = sorted(
            (e for e in setup.exams.values() if e.active and wanted in (None, e.modality)),
            key=lambda e: (e.modality, e.code),
        )
        for exam in exams:
            minutes = f"{exam.duration_minutes:>3} min"
            out(f"{exam.code:<16} {exam.modality:<4} {minutes}  {exam.name_fa}")
    return 0


async def patient_add(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar patient add``: exit status 2 with a clear message for bad input."""
    details = patients.PatientDetails(
        national_code=args.national_code,
        mobile=args.mobile,
        first_name=args.first_name,
        last_name=args.last_name,
        birth_year=args.birth_year,
        sex=args.sex,
        language=args.language,
    )
    async with build_app(settings) as app, app.uow() as uow:
        patient = await patients.register_patient(uow, OPERATOR, details, consent=True)
        await uow.commit()
    out(f"patient {patient.id} registered")
    return 0


async def patient_forgive(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar patient forgive-no-shows NATIONAL_CODE``: they may book in chat again."""
    async with build_app(settings) as app, app.uow() as uow:
        patient = await patients.find_by_national_code(uow, args.national_code)
        if patient is None:
            raise NotFound(N_("No patient has this national code."))
        forgiven = no_shows.missed_unforgiven(patient)
        await no_shows.lift_block(uow, OPERATOR, patient.id)
        await uow.commit()
    out(
        f"patient {patient.id}: {forgiven} missed appointment(s) forgiven; booking in chat is open"
    )
    return 0


def parse_moment(raw: str, *, end_of_day: bool = False) -> datetime:
    """``1405/09/10`` or ``1405/09/10 08:00`` (Tehran time, Persian digits accepted)."""
    parts = normalize_digits(raw).split()
    day = parse_jalali_date(parts[0])
    if len(parts) == 1:
        moment = tehran_datetime(day, time.min)
        return moment + timedelta(days=1) if end_of_day else moment
    try:
        hour, minute = (int(p) for p in parts[1].split(":"))
        return tehran_datetime(day, time(hour, minute))
    except ValueError:
        raise InvalidInput(N_("Please write the time like 08:30.")) from None


async def _site_id(app: App, key: str | None) -> int | None:
    if key is None:
        return None
    async with app.uow() as uow:
        found = [s.id for s in await sites.all_sites(uow) if s.key == key.strip().lower()]
    if not found:
        raise NotFound(N_("There is no site {site}."), site=key)
    return found[0]


async def _device_id(app: App, code: str | None) -> int | None:
    if code is None:
        return None
    async with app.uow() as uow:
        device = (await department_setup(uow)).device_by_code(code)
    if device is None:
        raise NotFound(N_("There is no device with the code {code}."), code=code)
    return device.id


async def closure_add(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar closure add``: reports how many bookings were affected, moved, cancelled."""
    start = parse_moment(args.start)
    end = (
        parse_moment(args.end, end_of_day=True)
        if args.end
        else parse_moment(args.start.split()[0], end_of_day=True)
    )
    async with build_app(settings) as app:
        request = closures.ClosureRequest(
            await _device_id(app, args.device),
            start,
            end,
            args.reason,
            args.reason_en,
            move=False if args.no_move else None,
            site_id=await _site_id(app, args.site),
        )
        async with app.uow() as uow:
            result = await closures.close(uow, OPERATOR, request)
            await uow.commit()
    out(
        f"closure {result.closure_id}: {result.affected} bookings affected, "
        f"{result.moved} moved, {result.cancelled} cancelled; every patient has a notice queued"
    )
    return 0


async def day_set(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar day open|close DATE``."""
    day = parse_jalali_date(args.date)
    async with build_app(settings) as app, app.uow() as uow:
        result = await closures.set_day(
            uow, OPERATOR, day, is_open=args.action == "open", note=args.note
        )
        await uow.commit()
    affected = f"; {result.affected} bookings affected, {result.moved} moved" if result else ""
    out(f"{args.date} is now {'open' if args.action == 'open' else 'closed'}{affected}")
    return 0


async def _exam(app: App, code: str) -> ExamView:
    async with app.uow() as uow:
        exam = (await department_setup(uow)).exam_by_code(code)
    if exam is None:
        raise NotFound(N_("There is no exam with code {code}."), code=code)
    return exam


async def show_slots(app: App, code: str, lang: str, days: int | None, day: date | None) -> None:
    """Print the free days (or one day's times) for an exam, Jalali, in ``lang``."""
    _ = translator(lang).gettext
    exam = await _exam(app, code)
    name = exam.name_fa if lang == "fa" else exam.name_en
    async with app.uow() as uow:
        if day is not None:
            out(_("Free times for {exam} on {day}:").format(exam=name, day=format_date(day, lang)))
            for slot in await availability.bookable_times(uow, exam.id, day):
                free = _digits(str(slot.free), lang)
                out(f"  {format_time(slot.starts_at, lang)}  {slot.device_code}  ({free})")
            return
        out(_("Bookable days for {exam}:").format(exam=name))
        found = await availability.bookable_days(uow, exam.id, days=days)
        ngettext = translator(lang).ngettext
        for bookable in found:
            places = ngettext(
                "{day}: {free} free place", "{day}: {free} free places", bookable.free
            )
            free = _digits(str(bookable.free), lang)
            out("  " + places.format(day=format_date(bookable.day, lang), free=free))
        if not found:
            out("  " + _("No free places in this period."))


async def slots(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar slots --exam CODE``."""
    lang = args.lang or settings.language
    day = parse_jalali_date(args.day) if args.day else None
    async with build_app(settings) as app:
        await show_slots(app, args.exam, lang, args.days, day)
    return 0


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar run``: migrate, then serve the bot, a worker, HTTP (health, metrics, the HIS
    webhook), the HL7 MLLP listener and the Orthanc poller until SIGINT or SIGTERM."""
    if args.platform:  # this platform's bot only (the worker still delivers to both)
        bot = dataclasses.replace(settings.bot, platform=args.platform, primary=args.platform)
        settings = dataclasses.replace(settings, bot=bot)
        if not bot.token():
            name = f"RADYAR_{args.platform.upper()}_TOKEN"
            sys.stderr.write(f"radyar: set {name} to run the bot (see the README)\n")
            return 2
        bots: tuple[str, ...] = (args.platform,)
    else:
        bots = settings.bot.platforms()
    if not bots:
        sys.stderr.write(
            "radyar: set RADYAR_TELEGRAM_TOKEN or RADYAR_BALE_TOKEN (or both) to run the bot "
            "(see the README)\n"
        )
        return 2
    prepare_data_dir(settings)
    fit_open_files(settings)
    await migrate.upgrade(settings.database_url)
    stop = _stop_on_signals()
    # Each platform's bot and one outbox worker side by side, a bot and the worker on its
    # token's one send budget; any failing stops them all.
    async with (
        build_app(settings) as app,
        send_budgets(settings, app) as budgets,
        asyncio.TaskGroup() as group,
    ):
        for platform in bots:
            own = dataclasses.replace(settings, bot=settings.bot.for_platform(platform))
            group.create_task(run_forever(own, app, stop, budgets.get(platform)))
        group.create_task(run_worker(settings, app, stop, budgets))
        group.create_task(serve_http(settings, app, stop))
        group.create_task(serve_mllp(settings, app, stop))
        group.create_task(poll_orthanc(settings, app, stop))
        group.create_task(run_outbound(settings, app, stop))
        group.create_task(
            poll_sms_inbound(settings.sms_inbound, settings.sms, app, stop, settings.sms_failover)
        )
        group.create_task(serve_worklist(settings.outbound.worklist, app, stop))
        group.create_task(housekeeping(app, stop))
    return 0


async def worker(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar worker``: one more outbox worker (PostgreSQL lets several run side by side)."""
    prepare_data_dir(settings)
    stop = _stop_on_signals()
    async with (
        build_app(settings) as app,
        send_budgets(settings, app) as budgets,
        asyncio.TaskGroup() as group,
    ):
        group.create_task(run_worker(settings, app, stop, budgets))
        group.create_task(housekeeping(app, stop))
    return 0


async def day_end_command(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar day-end``: past days' unadmitted bookings become no-shows (also done by
    ``radyar run`` and ``radyar worker`` every ten minutes)."""
    async with build_app(settings) as app:
        marked = await day_end(app)
    out(f"no-shows marked: {marked}")
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def demo(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar demo``: migrate, seed, and show what a patient could book; ``--web``: the
    browser demo on 127.0.0.1 until SIGINT or SIGTERM."""
    if args.web:
        return await run_web_demo(args.port, out, _stop_on_signals())
    lang = args.lang or settings.language
    prepare_data_dir(settings)
    await migrate.upgrade(settings.database_url)
    async with build_app(settings) as app:
        async with app.uow() as uow:
            await demo_data.seed_demo(uow)
            await uow.commit()
        now = to_tehran(app.clock.now())
        out(f"Radyar demo department, {format_date(now.date(), lang)} {format_time(now, lang)}")
        for code in ("CT-BRAIN", "MRI-KNEE", "US-ABD-PEL"):
            out()
            await show_slots(app, code, lang, 7, None)
        if not args.no_chat:
            out("\n" + translator(lang).gettext(DEMO_CHAT))
            await run_demo_chat(app, out, lang)
    return 0
