"""The radyar command as an operator uses it: exit statuses, messages, Jalali output."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clinic.i18n import translator
from radyar.cli import main
from tests.conftest import create_pg_database, drop_pg_database, require_pg_sync

PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def radyar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``radyar ARGS`` in-process on a fresh SQLite file; returns (status, stdout, stderr)."""
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_LANG", "en")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def test_upgrade_seed_and_slots_in_persian(radyar: Run) -> None:
    assert radyar("db", "upgrade")[0] == 0
    status, out, _ = radyar("seed", "--demo")
    assert status == 0
    assert "exams: 27 added, 0 changed" in out
    assert "DemoSummary" not in out
    status, out, _ = radyar("seed", "--demo")  # idempotent
    assert "already complete, nothing added" in out
    status, out, _ = radyar("slots", "--exam", "ct-brain", "--lang", "fa")
    assert status == 0
    assert "سی‌تی‌اسکن مغز" in out
    places = translator("fa").ngettext("{day}: {free} free place", "{day}: {free} free places", 2)
    assert places.split("{free}")[1].strip() in out  # "free places" in Persian
    assert PERSIAN_DIGITS & set(out)
    assert "جمعه" not in out  # Fridays are closed
    status, out, _ = radyar("slots", "--exam", "CT-BRAIN", "--days", "3", "--lang", "en")
    assert "free place" in out
    assert not PERSIAN_DIGITS & set(out)


def test_walk_in_registration_refuses_bad_input_with_status_2(radyar: Run) -> None:
    radyar("db", "upgrade")
    base = [
        "patient",
        "add",
        "--first-name",
        "زهرا",
        "--last-name",
        "محمدی",
        "--birth-year",
        "۱۳۶۵",
        "--sex",
        "female",
    ]
    status, _, err = radyar(*base, "--national-code", "1234567890", "--mobile", "09121234567")
    assert status == 2
    assert "national code" in err
    status, _, err = radyar(*base, "--national-code", "0499370899", "--mobile", "+1 555 0100")
    assert status == 2
    assert "09123456789" in err
    status, out, _ = radyar(*base, "--national-code", "۰۴۹۹۳۷۰۸۹۹", "--mobile", "۰۹۱۲ ۱۲۳ ۴۵۶۷")
    assert status == 0
    assert "registered" in out


def test_closure_reports_what_it_did(radyar: Run) -> None:
    radyar("db", "upgrade")
    radyar("seed", "--demo")
    status, out, _ = radyar(
        "closure",
        "add",
        "--device",
        "CT-1",
        "--from",
        "1405/09/20 08:00",
        "--to",
        "1405/09/20 12:00",
        "--reason",
        "سرویس دوره‌ای",
    )
    assert status == 0
    assert "0 bookings affected" in out
    status, _, err = radyar(
        "closure", "add", "--device", "NOPE", "--from", "1405/09/20", "--reason", "x"
    )
    assert status == 2
    assert "NOPE" in err
    status, _, err = radyar("closure", "add", "--from", "1404/12/30", "--reason", "x")
    assert status == 2
    assert "date does not exist" in err


def test_staff_and_catalogue_commands(radyar: Run, tmp_path: Path) -> None:
    radyar("db", "upgrade")
    status, out, _ = radyar(
        "staff", "add", "--name", "سارا نوری", "--roles", "reception,reporting",
        "--mobile", "09121234567",
    )  # fmt: skip
    assert (status, "reception,reporting" in out) == (0, True)
    status, _, err = radyar(
        "staff", "add", "--name", "x", "--roles", "janitor", "--mobile", "09121234568"
    )
    assert status == 2
    assert "janitor" in err
    bad = tmp_path / "exams.csv"
    bad.write_text(
        "code,name_fa,name_en,modality,body_part,duration_minutes,contrast,needs_review,walk_in,screening,preparation\n"
        "XR-FOOT,رادیوگرافی پا,Foot X-ray,CR,foot,ten,false,false,true,,\n",
        encoding="utf-8",
    )
    status, _, err = radyar("exams", "import", str(bad))
    assert status == 2
    assert f"{bad}:2:" in err
    assert "nothing was imported" in err
    status, _, err = radyar("exams", "import", str(tmp_path / "missing.yaml"))
    assert status == 2


def test_bad_settings_name_the_variable(radyar: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADYAR_HOLD_MINUTES", "ten")
    status, _, err = radyar("slots", "--exam", "CT-BRAIN")
    assert status == 2
    assert "RADYAR_HOLD_MINUTES" in err


def test_the_console_script_runs_on_postgresql(tmp_path: Path) -> None:
    """``radyar`` as installed, against PostgreSQL: migrate, seed, list free days."""
    require_pg_sync()
    name = f"radyar_cli_{os.getpid()}"
    url = asyncio.run(create_pg_database(name))
    env = os.environ | {"RADYAR_DATABASE_URL": url, "RADYAR_LANG": "fa"}
    script = Path(sys.executable).with_name("radyar")
    for args in (["db", "upgrade"], ["seed", "--demo"]):
        subprocess.run([script, *args], env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [script, "slots", "--exam", "MRI-KNEE", "--days", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    asyncio.run(drop_pg_database(name))
    assert done.returncode == 0
    assert "ام‌آر‌آی زانو" in done.stdout
    assert PERSIAN_DIGITS & set(done.stdout)


def test_health_workers_and_staff_get_link_codes(radyar: Run) -> None:
    radyar("db", "upgrade")
    status, out, _ = radyar("house", "add", "--name", "خانه بهداشت امیرآباد", "--county", "شیروان")
    assert (status, "health house 1 added" in out) == (0, True)
    status, out, _ = radyar(
        "health-worker", "add", "--house", "1", "--name", "مریم احمدی", "--mobile", "۰۹۱۵۱۲۳۴۵۶۷"
    )
    assert status == 0
    code = out.split("/link ")[1].split()[0]
    assert len(code) == 10 and code.isascii() and code.isdigit()
    assert "0915***4567" in out and "09151234567" not in out
    status, _, err = radyar(
        "health-worker", "add", "--house", "9", "--name", "x", "--mobile", "09151234567"
    )
    assert status == 2
    assert "could not find" in err  # no health house 9
    status, out, _ = radyar("link-code", "--health-worker", "1")
    assert "/link " in out
    assert out.split("/link ")[1].split()[0] != code


def test_staff_need_a_mobile_on_record_for_a_link_code(radyar: Run) -> None:
    radyar("db", "upgrade")
    status, out, _ = radyar("staff", "add", "--name", "رضا کاظمی", "--roles", "admin",
                            "--telegram-id", "5001")  # fmt: skip
    assert status == 0 and "/link" not in out  # linked at once, no code
    status, out, _ = radyar("staff", "add", "--name", "سارا نوری", "--roles", "broadcaster")
    assert status == 0 and "/link" not in out
    assert "no link code" in out and "radyar staff mobile 2 09" in out
    status, _, err = radyar("link-code", "--staff", "1")
    assert status == 2
    assert "no mobile number on record" in err
    status, out, _ = radyar("staff", "mobile", "1", "۰۹۱۳۱۲۳۴۵۶۷")
    assert (status, "0913***4567" in out) == (0, True)
    status, out, _ = radyar("link-code", "--staff", "1")
    assert status == 0 and "/link " in out
    status, out, _ = radyar(
        "staff", "add", "--name", "نرگس محمدی", "--roles", "reception", "--mobile", "09141234567"
    )
    assert status == 0 and "staff member 3 added" in out and "/link " in out
