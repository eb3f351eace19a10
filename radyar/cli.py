"""The ``radyar`` command: database, catalogue, staff, patients, closures and free slots."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from clinic import audit, log_redaction
from clinic.errors import ClinicError
from clinic.i18n import missing_catalogue, translator
from radyar import (
    audit_cmd,
    broadcast_cmd,
    commands,
    department_cmd,
    desk_cmd,
    outbound_cmd,
    people_cmd,
    report_cmd,
    retention_cmd,
)
from radyar.backup import backup_command, restore_command
from radyar.settings import Settings, SettingsError

EXIT_BAD_INPUT = 2
# These answer or notify patients: in English only, by accident, they must not start.
TALKS_TO_PATIENTS = frozenset({"run", "worker", "broadcast"})
log = logging.getLogger("radyar")

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _db(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database migrations")
    dbsub = db.add_subparsers(dest="action", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=commands.db_upgrade)
    down = dbsub.add_parser("downgrade", help="revert migrations down to REVISION")
    down.add_argument("revision")
    down.set_defaults(handler=commands.db_downgrade)


def _catalogue(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seed = sub.add_parser("seed", help="fill the database with data")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo department")
    seed.set_defaults(handler=commands.seed)
    exams = sub.add_parser("exams", help="the exam catalogue")
    esub = exams.add_subparsers(dest="action", required=True)
    imp = esub.add_parser("import", help="import exams from a YAML or CSV file")
    imp.add_argument("file")
    imp.set_defaults(handler=commands.exams_import)
    lst = esub.add_parser("list", help="list the exams")
    lst.add_argument("--modality", help="CT, MR, CR, US, MG, RF or BMD")
    lst.set_defaults(handler=commands.exams_list)
    department = sub.add_parser(
        "department", help="the department's devices, hours and places, as a YAML file"
    )
    dsub = department.add_subparsers(dest="action", required=True)
    check = dsub.add_parser(
        "check", help="check a department file (YAML, or a .csv of devices); what an import does"
    )
    check.add_argument("file")
    check.set_defaults(handler=department_cmd.department_check)
    imp = dsub.add_parser("import", help="import a department file (all or nothing)")
    imp.add_argument("file")
    imp.add_argument(
        "--move-bookings",
        action="store_true",
        help="move bookings the new setup has no room for, with a notice (as closures do)",
    )
    imp.set_defaults(handler=department_cmd.department_import)
    exp = dsub.add_parser("export", help="write the department as a file (import round-trips)")
    exp.add_argument("file", nargs="?", help="where to write it (default: standard output)")
    exp.add_argument("--csv", action="store_true", help="the devices only, one a row, as CSV")
    exp.add_argument("--site", help="one site only, as hospital/department (default: every site)")
    exp.set_defaults(handler=department_cmd.department_export)
    report = sub.add_parser("report", help="reports for the department and the Ministry")
    rsub = report.add_subparsers(dest="action", required=True)
    bookings = rsub.add_parser(
        "bookings", help="appointments by how they were made: the e-booking share (target 60%%)"
    )
    bookings.add_argument("--from", dest="start", required=True, help="Jalali day: 1405/09/01")
    bookings.add_argument("--to", dest="end", required=True, help="Jalali day: 1405/09/30")
    bookings.add_argument("--csv", action="store_true", help="CSV (ASCII digits) for a sheet")
    bookings.add_argument("--lang", choices=("fa", "en"), help="Persian digits and labels: fa")
    bookings.add_argument(
        "--site", help="one site only, as hospital/department (default: the whole university)"
    )
    bookings.set_defaults(handler=report_cmd.report_bookings)
    devices = sub.add_parser("devices", help="the imaging devices")
    dvsub = devices.add_subparsers(dest="action", required=True)
    dvsub.add_parser("list", help="each device's room, slots, places and hours").set_defaults(
        handler=department_cmd.devices_list
    )
    site = sub.add_parser("sites", help="the imaging departments of the hospitals served")
    ssub = site.add_subparsers(dest="action", required=True)
    ssub.add_parser(
        "list", help="each site's name, county, HIS name, phone and devices"
    ).set_defaults(handler=department_cmd.sites_list)


def _retention(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kept = sub.add_parser("retention", help="how long patients' data is kept")
    ksub = kept.add_subparsers(dest="action", required=True)
    ksub.add_parser(
        "run", help="remove what is past its time now (radyar run: daily)"
    ).set_defaults(handler=retention_cmd.retention_run)


def _audit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit log")
    asub = audit.add_subparsers(dest="action", required=True)
    verify = asub.add_parser("verify", help="check the hash chain: nothing changed or deleted")
    verify.add_argument("--seal", action="store_true", help="seal the newest entries first")
    verify.set_defaults(handler=audit_cmd.audit_verify)


def _backup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser("backup", help="the database and prescription files in one archive")
    made.add_argument("--out", help="the file (default: RADYAR_DATA_DIR/backups/radyar-TIME.tar)")
    made.set_defaults(handler=backup_command)
    back = sub.add_parser("restore", help="a backup into the database (stop run and workers)")
    back.add_argument("file", help="the archive radyar backup wrote")
    back.add_argument("--yes", action="store_true", help="replace a database that holds data")
    back.set_defaults(handler=restore_command)


def _outbound(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    told = sub.add_parser("outbound", help="booking changes for the hospital's systems")
    osub = told.add_subparsers(dest="action", required=True)
    osub.add_parser("status", help="how many are in each state, by adapter").set_defaults(
        handler=outbound_cmd.outbound_status
    )
    failed = osub.add_parser("failed", help="those refused, and what the receiver said")
    failed.add_argument("--limit", type=int, default=50)
    failed.set_defaults(handler=outbound_cmd.outbound_failed)
    for action, help_text, handler in (
        ("retry", "send a refused one again", outbound_cmd.outbound_retry),
        ("skip", "set a refused one aside (entered there by hand)", outbound_cmd.outbound_skip),
    ):
        one = osub.add_parser(action, help=help_text)
        one.add_argument("id", type=int, help="the event's id (radyar outbound failed)")
        one.set_defaults(handler=handler)


def _people(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="staff members")
    ssub = staff.add_subparsers(dest="action", required=True)
    add = ssub.add_parser("add", help="add a staff member")
    add.add_argument("--name", required=True)
    add.add_argument("--roles", required=True, help="comma separated: admin,reception,...")
    add.add_argument("--mobile", help="needed for the link code, which works only from it")
    add.add_argument("--telegram-id", type=int, help="link this Telegram account now (no code)")
    add.add_argument("--bale-id", type=int, help="link this Bale account now (no code)")
    add.add_argument(
        "--sites",
        default="",
        help="comma separated hospital/department (default: university-wide)",
    )
    add.set_defaults(handler=people_cmd.staff_add)
    held = ssub.add_parser("sites", help="the sites a staff member's roles hold at")
    held.add_argument("id", type=int, help="staff id")
    held.add_argument("sites", nargs="*", help="hospital/department …; none: university-wide")
    held.add_argument("--role", help="for this one of the member's roles only (e.g. reception)")
    held.set_defaults(handler=people_cmd.staff_sites)
    ssub.add_parser("list", help="staff members, their roles and linked accounts").set_defaults(
        handler=people_cmd.staff_list
    )
    mobile = ssub.add_parser("mobile", help="record a staff member's mobile (for link codes)")
    mobile.add_argument("id", type=int, help="staff id")
    mobile.add_argument("mobile")
    mobile.set_defaults(handler=people_cmd.staff_mobile)
    house = sub.add_parser("house", help="rural health houses")
    hsub = house.add_subparsers(dest="action", required=True)
    hadd = hsub.add_parser("add", help="add a health house")
    hadd.add_argument("--name", required=True)
    hadd.add_argument("--village", default="")
    hadd.add_argument("--county", default="")
    hadd.set_defaults(handler=people_cmd.house_add)
    worker = sub.add_parser("health-worker", help="health-house workers (behvarz)")
    wsub = worker.add_subparsers(dest="action", required=True)
    wsub.add_parser("list", help="health workers and their health houses").set_defaults(
        handler=people_cmd.health_worker_list
    )
    wadd = wsub.add_parser("add", help="add a health worker and print their link code")
    wadd.add_argument("--house", type=int, required=True, help="health house id")
    wadd.add_argument("--name", required=True)
    wadd.add_argument("--mobile", required=True)
    wadd.set_defaults(handler=people_cmd.health_worker_add)
    link = sub.add_parser(
        "link-code", help="a new one-time code to link a chat account (earlier ones stop working)"
    )
    who = link.add_mutually_exclusive_group(required=True)
    who.add_argument("--staff", type=int, help="staff id")
    who.add_argument("--health-worker", type=int, help="health worker id")
    link.set_defaults(handler=people_cmd.link_code)
    patient = sub.add_parser("patient", help="patients")
    psub = patient.add_subparsers(dest="action", required=True)
    padd = psub.add_parser("add", help="reception registers a walk-in patient")
    for name in ("national-code", "mobile", "first-name", "last-name", "birth-year", "sex"):
        padd.add_argument(f"--{name}", required=True)
    padd.add_argument("--language", default="fa", choices=("fa", "en"))
    padd.set_defaults(handler=commands.patient_add)
    forgive = psub.add_parser(
        "forgive-no-shows", help="lift the block a patient's missed appointments put on booking"
    )
    forgive.add_argument("national_code")
    forgive.set_defaults(handler=commands.patient_forgive)
    from radyar import patient_data_cmd  # here: the import list above is others' to edit too

    patient_data_cmd.add_commands(psub)  # patient export, patient erase
    book = sub.add_parser("book", help="reception books for a patient (desk or phone)")
    _at_the_desk(book, "exam code, like CT-BRAIN")
    book.add_argument("--at", help="Jalali day and time, '1405/09/10 09:00' (else the first free)")
    book.add_argument("--device", help="device code (with --at, when several do the exam)")
    book.add_argument("--phone", action="store_true", help="the patient asked on the phone")
    book.add_argument(
        "--for", dest="for_", choices=("urgent", "inpatient"),
        help="an urgent case or an inpatient: may use the places kept back for them",
    )  # fmt: skip
    book.set_defaults(handler=desk_cmd.book)
    walk_in = sub.add_parser("walk-in", help="the same-day queue for walk-in exams")
    wisub = walk_in.add_subparsers(dest="action", required=True)
    ticket = wisub.add_parser("ticket", help="a numbered place in today's queue")
    _at_the_desk(ticket, "a walk-in exam's code, like XR-CHEST")
    ticket.add_argument("--device", help="this device's queue (else the first with a place)")
    ticket.set_defaults(handler=desk_cmd.walk_in_ticket)
    wqueue = wisub.add_parser("queue", help="today's tickets of a device, in number order")
    wqueue.add_argument("--device", required=True)
    wqueue.set_defaults(handler=desk_cmd.walk_in_queue)
    pickup = sub.add_parser("pickup", help="the results desk: whose report a pickup code is")
    pickup.add_argument("code", help="the pickup code the patient shows (Persian digits too)")
    pickup.add_argument(
        "--collect", choices=("patient", "proxy"), help="hand it over: to the patient or a proxy"
    )
    pickup.add_argument("--note", help="who collects it for the patient, and the ID they showed")
    pickup.set_defaults(handler=desk_cmd.pickup)
    day_end = sub.add_parser(
        "day-end", help="past days' unadmitted bookings become no-shows (run does it too)"
    )
    day_end.set_defaults(handler=commands.day_end_command)


def _at_the_desk(command: argparse.ArgumentParser, exam_help: str) -> None:
    """What reception has in hand for a booking or a walk-in: who, the exam, the prescription,
    the insurer and the safety answers."""
    command.add_argument("--national-code", required=True)
    command.add_argument("--exam", required=True, help=exam_help)
    command.add_argument(
        "--insurer", required=True, choices=("tamin", "salamat", "armed_forces", "other", "none")
    )
    command.add_argument("--tracking-code", help="the e-prescription's; without it, the paper one")
    command.add_argument(
        "--answer", action="append", help="a safety answer, like pregnancy=no (repeat)"
    )


def _schedule(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    closure = sub.add_parser("closure", help="close a device or the department")
    csub = closure.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add", help="close for a range (Jalali: 1405/09/10 08:00)")
    add.add_argument("--device", help="device code; omit to close the whole department")
    add.add_argument(
        "--from", dest="start", required=True, help="1405/09/10 or '1405/09/10 08:00'"
    )
    add.add_argument("--to", dest="end", help="end (default: the end of the start day)")
    add.add_argument("--reason", required=True, help="shown to patients (Persian)")
    add.add_argument("--reason-en", default="")
    add.add_argument("--no-move", action="store_true", help="cancel instead of moving bookings")
    add.add_argument(
        "--site",
        help="without --device: close this site whole, as hospital/department "
        "(default: every site)",
    )
    add.set_defaults(handler=commands.closure_add)
    day = sub.add_parser("day", help="re-open a holiday or close a working day")
    day.add_argument("action", choices=("open", "close"))
    day.add_argument("date", help="Jalali date, e.g. 1405/09/10")
    day.add_argument("--note", default="")
    day.set_defaults(handler=commands.day_set)
    slots = sub.add_parser("slots", help="bookable days and times for an exam")
    slots.add_argument("--exam", required=True, help="exam code, e.g. CT-BRAIN")
    slots.add_argument("--days", type=int, help="how many days ahead (default: the horizon)")
    slots.add_argument("--day", help="one Jalali day: list its times")
    slots.add_argument("--lang", choices=("fa", "en"))
    slots.set_defaults(handler=commands.slots)
    demo = sub.add_parser("demo", help="migrate, seed the demo department, show its free days")
    demo.add_argument("--lang", choices=("fa", "en"))
    demo.add_argument("--no-chat", action="store_true", help="skip the scripted bot conversation")
    demo.add_argument(
        "--web", action="store_true", help="a web page on 127.0.0.1: be patients, staff, hospital"
    )
    demo.add_argument("--port", type=int, default=8099, help="the web page's port (with --web)")
    demo.set_defaults(handler=commands.demo)


def _run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="run the bot (long polling, or a webhook) and an outbox worker"
    )
    run.add_argument("--platform", choices=("telegram", "bale"), help="default: RADYAR_PLATFORM")
    run.set_defaults(handler=commands.run)
    worker = sub.add_parser("worker", help="run one more outbox worker (chat and SMS delivery)")
    worker.set_defaults(handler=commands.worker)


def _broadcast(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broadcast = sub.add_parser("broadcast", help="a staff message to patients or health workers")
    bsub = broadcast.add_subparsers(dest="action", required=True)
    send = bsub.add_parser("send", help="draft, confirm, queue and follow a broadcast")
    send.add_argument("--staff", required=True, help="id of the sender (broadcaster or admin)")
    text = send.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the message (at most 1000 characters)")
    text.add_argument("--text-file", help="a UTF-8 file holding the message")
    send.add_argument("--audience", required=True, choices=tuple(broadcast_cmd.AUDIENCES))
    send.add_argument("--device", help="device code (with --audience device)")
    send.add_argument("--from", dest="first", help="first Jalali day, e.g. 1405/09/10")
    send.add_argument("--to", dest="last", help="last Jalali day (default: the --from day)")
    send.add_argument("--yes", action="store_true", help="send without asking for confirmation")
    send.add_argument("--no-wait", action="store_true", help="queue it and return at once")
    send.set_defaults(handler=broadcast_cmd.send)
    status = bsub.add_parser("status", help="how many messages are sent, failed, still queued")
    status.add_argument("id", help="broadcast id")
    status.add_argument("--follow", action="store_true", help="show progress until done")
    status.set_defaults(handler=broadcast_cmd.status)
    lst = bsub.add_parser("list", help="recent broadcasts, newest first")
    lst.add_argument("--limit", type=int, default=20)
    lst.set_defaults(handler=broadcast_cmd.list_broadcasts)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog="radyar", description="Radyar: booking and notices for a hospital imaging department."
    )
    parser.add_argument(
        "--as", dest="operator", metavar="NAME",
        help="who is at the terminal, named in the audit log (default: the login name)",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _db,
        _catalogue,
        _people,
        _schedule,
        _run,
        _broadcast,
        _outbound,
        _audit,
        _retention,
        _backup,
    ):
        add(sub)
    return parser


def quiet_libraries(level: str) -> None:
    """Keep libraries that log personal data or secrets below their chatty levels.

    httpx logs request URLs, which carry the bot token; aiosqlite and telegram's Bot at DEBUG
    log statement parameters and request bodies (patients' data). These never go below
    WARNING / INFO.
    """
    for name in ("httpx", "httpcore", "telegram.ext.Updater", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # aiosqlite logs statements with their parameters at DEBUG; python-telegram-bot's Bot logs
    # every request's parameters and answer (message texts, users' names, the token in the URL).
    for name in ("aiosqlite", "telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).setLevel(logging.INFO)
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): its number
        return f"uid {os.getuid()}"


def _first_cause(exc: BaseException) -> BaseException:
    """The first failure inside task groups (``radyar run`` runs its parts in one)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _named(exc: BaseException) -> str:
    """The failure's kind, and for a network one that it is one (never its text: URLs carry
    the bot token)."""
    kind = type(exc).__name__
    network = ("NetworkError", "TimedOut", "ClientConnectorError", "ConnectionRefusedError")
    return f"{kind}: a service it needs cannot be reached" if kind in network else kind


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``radyar`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"radyar: {exc}\n")
        return EXIT_BAD_INPUT
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    # every handler, every level; the settings' secrets masked wherever they show up
    log_redaction.install(settings.log_key.reveal().encode(), secrets=settings.secrets())
    quiet_libraries(settings.log_level)
    missing = missing_catalogue() if args.command in TALKS_TO_PATIENTS else None
    if missing is not None:
        sys.stderr.write(f"radyar: will not start: {missing}\n")
        return EXIT_BAD_INPUT
    lang = getattr(args, "lang", None) or settings.language
    # Who is at the terminal, for the audit log; the server's own work is the system's.
    operator = None if args.command in ("run", "worker") else args.operator or _login_name()
    token = audit.OPERATOR.set(operator)
    handler: Handler = args.handler
    try:
        return asyncio.run(handler(args, settings))
    except ClinicError as exc:
        message = exc.render(translator(lang).gettext, persian_digits=lang == "fa")
        sys.stderr.write(f"radyar: {message}\n")
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader (e.g. `| head`) left; nothing more to say
        sys.stderr.close()
        return 0
    except Exception as exc:  # anything else: a short line, no traceback, no data
        cause = _first_cause(exc)
        if isinstance(cause, ClinicError):  # from inside a task group: still the user's input
            message = cause.render(translator(lang).gettext, persian_digits=lang == "fa")
            sys.stderr.write(f"radyar: {message}\n")
            return EXIT_BAD_INPUT
        log.error("command %s failed: %s", args.command, type(cause).__name__)
        log.debug("traceback of the failure", exc_info=True)
        sys.stderr.write(f"radyar: the command failed ({_named(cause)}); see the log\n")
        return 1
    finally:
        audit.OPERATOR.reset(token)  # main() may run again in this process (tests do)


if __name__ == "__main__":
    sys.exit(main())
