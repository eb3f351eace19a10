"""``radyar patient export`` and ``radyar patient erase`` at the server's terminal, on SQLite
and PostgreSQL: the zip only its owner reads, nothing personal on the screen, confirmation
asked at a terminal and refused without one, upcoming appointments cancelled on request, the
operator named in the audit log."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.db import make_engine
from clinic.models import AuditEntry
from clinic.text import to_persian_digits
from radyar.cli import main
from tests.conftest import create_pg_database, drop_pg_database, require_pg_sync
from tests.factories import national_code

if TYPE_CHECKING:
    from pathlib import Path

Run = Callable[..., tuple[int, str, str]]
CODE = national_code(3)
MOBILE = "09151230003"


class Terminal(io.StringIO):
    """Standard input at a terminal, with the operator's answer typed in."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """No URL (the SQLite file in the data folder), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    require_pg_sync()
    name = f"radyar_patient_data_{os.getpid()}"
    url = asyncio.run(create_pg_database(name))
    try:
        yield url
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture
def radyar(
    database: str | None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """The demo department with one patient booked at the desk; ``radyar ARGS`` in-process."""
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RADYAR_LANG", "en")
    if database is None:
        monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("RADYAR_DATABASE_URL", database)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    for args in (
        ("db", "upgrade"),
        ("seed", "--demo"),
        ("patient", "add", "--national-code", CODE, "--mobile", MOBILE, "--first-name", "مریم",
         "--last-name", "صادقی", "--birth-year", "1365", "--sex", "female"),
        ("book", "--national-code", CODE, "--exam", "XR-CHEST", "--insurer", "tamin",
         "--tracking-code", "556677", "--answer", "pregnancy=no"),
    ):  # fmt: skip
        status, _, err = run(*args)
        assert status == 0, err
    return run


def _personal(text: str) -> list[str]:
    return [x for x in (CODE, to_persian_digits(CODE), MOBILE, "مریم", "صادقی") if x in text]


def test_export_writes_a_zip_only_its_owner_reads(radyar: Run, tmp_path: Path) -> None:
    status, out, err = radyar("--as", "it-maryam", "patient", "export", to_persian_digits(CODE))
    assert status == 0, err
    [written] = list(tmp_path.glob("patient-*.zip"))
    assert str(written) in out and _personal(out) == []
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    with zipfile.ZipFile(written) as archive:
        data = json.loads(archive.read("patient.json").decode("utf-8"))
    assert data["patient"]["national_code"] == CODE
    [booking] = data["bookings"]
    assert (booking["status"], booking["channel"]) == ("confirmed", "desk")
    assert data["notes"]
    # Never over an existing file.
    status, _, err = radyar("patient", "export", CODE, "--out", str(written))
    assert status == 2 and "there already" in err
    status, _, err = radyar("patient", "export", "0000000000")
    assert status == 2 and "10 digits" in err


def test_erase_asks_at_a_terminal_and_refuses_without_one(
    radyar: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # a pipe: no one to ask
    status, out, err = radyar("patient", "erase", CODE, "--cancel-upcoming")
    assert status == 2 and "terminal" in err
    assert "patient 1: " in out and _personal(out) == []
    # Upcoming appointments: not without --cancel-upcoming.
    status, out, err = radyar("patient", "erase", CODE, "--yes")
    assert status == 2 and "upcoming appointments" in err and "--cancel-upcoming" in out
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    status, out, _ = radyar("patient", "erase", CODE, "--cancel-upcoming")
    assert status == 1 and "nothing was erased" in out

    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    status, out, err = radyar("--as", "it-maryam", "patient", "erase", CODE, "--cancel-upcoming")
    assert status == 0, err
    assert "patient 1 erased" in out and "cancelled first: 1 appointments" in out
    assert _personal(out) == []
    status, _, err = radyar("patient", "export", CODE)
    assert status == 2 and "No patient has this national code" in err
    # The same person may register again later.
    status, out, _ = radyar(
        "patient", "add", "--national-code", CODE, "--mobile", MOBILE, "--first-name", "مریم",
        "--last-name", "صادقی", "--birth-year", "1365", "--sex", "female",
    )  # fmt: skip
    assert status == 0 and "patient 2 registered" in out


async def _audited(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.id)
            )
            return [(action, (details or {}).get("operator")) for action, details in rows]
    finally:
        await engine.dispose()


def test_the_operator_is_named_in_the_audit_log(
    radyar: Run, database: str | None, tmp_path: Path
) -> None:
    assert radyar("--as", "it-maryam", "patient", "export", CODE, "--out", "x.zip")[0] == 0
    status, _, err = radyar(
        "--as", "it-reza", "patient", "erase", CODE, "--cancel-upcoming", "--yes"
    )
    assert status == 0, err
    url = database or f"sqlite+aiosqlite:///{tmp_path / 'data' / 'radyar.db'}"
    rows = asyncio.run(_audited(url))
    assert ("patient.exported", "it-maryam") in rows
    assert ("booking.cancel", "it-reza") in rows and ("patient.erased", "it-reza") in rows
