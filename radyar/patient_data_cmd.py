"""``radyar patient export`` and ``radyar patient erase``: a patient's data on their request.

Only the file's path and counts are written out: never a name, a national code or a mobile
(the terminal's scroll-back and a script's log are no place for them). Both are audited with
the operator named (``--as``, else the login name).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clinic.actors import Actor
from clinic.errors import InvalidInput
from clinic.files import FileStore
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.patient_data import (
    ErasureBlocked,
    ExamInProgress,
    erase_patient,
    export_patient,
    patient_card,
)
from radyar.app import build_app
from radyar.people_cmd import out

if TYPE_CHECKING:
    import argparse

    from clinic.patient_data import PatientCard
    from clinic.patient_erasure import ErasureSummary
    from radyar.settings import Settings

OPERATOR = Actor.system()  # the person at the server's terminal, named by audit.OPERATOR
EX_TEMPFAIL = 75  # sysexits: try again later (the hospital's systems are still being told)
EXISTS = N_("The file {path} is there already; choose another name with --out.")
NO_TERMINAL = N_(
    "Erasing asks for confirmation at a terminal, and there is none here. Run it at a "
    "terminal, or add --yes if you are sure."
)


def add_commands(psub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``patient export`` and ``patient erase`` under ``radyar patient``."""
    exp = psub.add_parser(
        "export", help="everything held about a patient, as a zip to hand to them (audited)"
    )
    exp.add_argument("national_code", help="Persian or Arabic digits are fine")
    exp.add_argument("--out", help="the zip to write (default: patient-ID-DATE.zip here)")
    exp.set_defaults(handler=patient_export)
    erase = psub.add_parser(
        "erase",
        help="remove a patient's personal data; the hospital's records stay without identity "
        "(audited; exit 75: run again in a few minutes)",
    )
    erase.add_argument("national_code", help="Persian or Arabic digits are fine")
    erase.add_argument(
        "--cancel-upcoming",
        action="store_true",
        help="cancel their upcoming appointments and open requests first (as reception would)",
    )
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(handler=patient_erase)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in counts.items() if n) or "none"


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only its owner may read (0600); never over another."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


async def patient_export(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar patient export NATIONAL_CODE [--out FILE.zip]``."""
    chosen = Path(args.out) if args.out else None
    if chosen is not None and chosen.exists():
        raise InvalidInput(EXISTS, path=str(chosen))
    files = FileStore(settings.data_dir / "files")
    async with build_app(settings) as app, app.uow() as uow:
        export = await export_patient(uow, OPERATOR, args.national_code, files=files)
        path = chosen or Path.cwd() / export.file_name(to_tehran(app.clock.now()).date())
        if path.exists():
            raise InvalidInput(EXISTS, path=str(path))
        data = export.zip_bytes()
        await uow.commit()  # audited before the file exists: an export is never unrecorded
    _write_private(path, data)
    out(f"written {path} (only you can read it): patient {export.patient_id}")
    out(f"in it: {_counts(export.counts)}; files {len(export.files)}")
    out("it holds health data: hand it to the patient, then delete it")
    return 0


def _show(card: PatientCard) -> None:
    out(f"patient {card.patient_id}: {_counts(card.counts)}")
    if card.upcoming or card.open_requests:
        out(
            f"to cancel first: {card.upcoming} upcoming appointments, "
            f"{card.open_requests} open requests"
        )
    out(f"stays: {card.kept}")


def _confirmed(card: PatientCard) -> bool:
    """Whether the operator typed yes at the terminal."""
    if not sys.stdin.isatty():
        raise InvalidInput(NO_TERMINAL)
    sys.stdout.write(f"erase patient {card.patient_id}'s personal data? type yes: ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() == "yes"


def _result(summary: ErasureSummary) -> int:
    if not summary.erased:
        out(
            f"cancelled {summary.cancelled} appointments and {summary.withdrawn} requests; the "
            f"hospital's systems have {summary.waiting} changes still to take (or refused: "
            "radyar outbound failed). Nothing is erased yet: run the same command again in a "
            "few minutes."
        )
        return EX_TEMPFAIL
    out(f"patient {summary.patient_id} erased")
    out(f"cancelled first: {summary.cancelled} appointments, {summary.withdrawn} requests")
    out(f"removed: {_counts(summary.removed)}")
    out(f"emptied: {_counts(summary.emptied)}")
    out(f"kept without identity: {_counts(summary.kept)}")
    return 0


async def patient_erase(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar patient erase NATIONAL_CODE [--cancel-upcoming] [--yes]``."""
    files = FileStore(settings.data_dir / "files")
    async with build_app(settings) as app:
        async with app.uow() as uow:
            card = await patient_card(uow, OPERATOR, args.national_code)
            await uow.commit()
        _show(card)
        if card.admitted:
            raise ExamInProgress()
        if (card.upcoming or card.open_requests) and not args.cancel_upcoming:
            out("add --cancel-upcoming to cancel them first")
            raise ErasureBlocked(bookings=card.upcoming, requests=card.open_requests)
        if not args.yes and not _confirmed(card):
            out("nothing was erased")
            return 1
        async with app.uow() as uow:
            summary = await erase_patient(
                uow, OPERATOR, card.patient_id, files=files, cancel_upcoming=args.cancel_upcoming
            )
            await uow.commit()
    return _result(summary)
