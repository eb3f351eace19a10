"""``radyar department``, ``devices list``, ``staff list`` and ``health-worker list``, as the
operator of a new hospital uses them on a fresh SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from clinic.demo import DEPARTMENT
from clinic.jalali import TEHRAN, jalali_iso
from radyar.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.fixture
def radyar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``radyar ARGS`` in-process on a fresh SQLite file; (status, stdout, stderr)."""
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_LANG", "en")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    assert run("db", "upgrade")[0] == 0
    return run


def test_a_new_hospital_imports_its_department_and_gets_it_back(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    assert radyar("exams", "import", str(DEPARTMENT.with_name("catalogue.yaml")))[0] == 0
    status, out, _ = radyar("department", "check", str(DEPARTMENT))
    assert status == 0
    assert "the file is good" in out and "devices: 9 to add, 0 changed, 0 unchanged" in out
    assert radyar("devices", "list")[1] == ""  # a check writes nothing
    status, out, _ = radyar("department", "import", str(DEPARTMENT))
    assert (status, out.splitlines()[0]) == (
        0, "devices: 9 added, 0 changed, 0 unchanged; closed ranges added: 0"
    )  # fmt: skip
    status, out, _ = radyar("devices", "list")
    assert "XR-1     CR   Radiography room 1" in out
    assert "slots of 10 min, 2 place(s)\n" in out
    assert "hours: sat,sun,mon,tue,wed 07:30-13:30 15:00-21:00; thu 07:30-12:30" in out
    exported = tmp_path / "ours.yaml"
    assert radyar("department", "export", str(exported))[0] == 0
    status, out, _ = radyar("department", "import", str(exported))
    assert (status, "9 unchanged" in out) == (0, True)
    status, out, _ = radyar("department", "export")
    assert out == exported.read_text(encoding="utf-8")


def test_a_broken_file_names_each_line_and_imports_nothing(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    assert radyar("exams", "import", str(DEPARTMENT.with_name("catalogue.yaml")))[0] == 0
    broken = tmp_path / "broken.yaml"
    text = DEPARTMENT.read_text(encoding="utf-8")
    broken.write_text(
        text.replace("slot_minutes: 15", "slot_minutes: ۲", 1).replace("[thu]", "[thursd]", 1),
        encoding="utf-8",
    )
    lines = broken.read_text(encoding="utf-8").splitlines()
    slot = next(i for i, t in enumerate(lines, 1) if "slot_minutes: ۲" in t)
    day = next(i for i, t in enumerate(lines, 1) if "[thursd]" in t)
    for command in ("check", "import"):
        status, _, err = radyar("department", command, str(broken))
        assert status == 2
        assert f"{broken}:{slot}: slot_minutes must be a whole number of minutes" in err
        assert f"{broken}:{day}: unknown day 'thursd'" in err
    assert radyar("devices", "list")[1] == ""
    status, _, err = radyar("department", "import", str(tmp_path / "missing.yaml"))
    assert (status, "cannot read" in err) == (2, True)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("hospitals: é".encode("latin-1"))
    status, _, err = radyar("department", "check", str(latin1))
    assert (status, "is not UTF-8 text" in err) == (2, True)


def test_the_operator_lists_staff_and_health_workers_without_their_numbers(
    radyar: Callable[..., tuple[int, str, str]],
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    status, out, _ = radyar("staff", "list")
    assert status == 0
    assert "علیرضا حسینی  [admin]  all sites  -  not linked" in out
    assert len(out.splitlines()) == 5
    status, out, _ = radyar("health-worker", "list")
    assert "معصومه رضایی  خانه بهداشت روستای امیرآباد, امیرآباد, شیروان" in out
    assert "0915***0001" in out and "09150000001" not in out


def test_the_e_booking_share_report_in_english_persian_and_csv(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    # Nothing booked yet: every count is zero and the share is not a number.
    status, out, _ = radyar("report", "bookings", "--from", "1405/09/01", "--to", "1405/09/30")
    assert status == 0
    assert out.splitlines()[0].split() == [
        "Day", "Modality", "In", "chat", "Health", "worker", "Desk", "Phone", "Walk-in",
        "Total", "Electronic", "Share",
    ]  # fmt: skip
    assert "Booked electronically: - of 0 (the Ministry's target: 60.0%)" in out
    status, out, _ = radyar(
        "report", "bookings", "--from", "۱۴۰۵/۰۹/۰۱", "--to", "۱۴۰۵/۰۹/۳۰", "--lang", "fa"
    )
    assert status == 0
    assert "۶۰٫۰٪" in out or "۶۰.۰%" in out
    assert not any(d in out for d in "0123456789")
    status, out, _ = radyar(
        "report", "bookings", "--from", "1405/09/01", "--to", "1405/09/30", "--csv"
    )
    assert out.splitlines() == [
        "day,modality,chat,health_worker,desk,phone,walk_in,total,electronic,share",
        "all,all,0,0,0,0,0,0,0,-",
    ]
    status, _, err = radyar("report", "bookings", "--from", "1405/09/30", "--to", "1405/09/01")
    assert (status, "must not be before" in err) == (2, True)
    status, _, err = radyar("report", "bookings", "--from", "1405/13/01", "--to", "1405/09/01")
    assert status == 2 and err.startswith("radyar: ")


def test_the_results_desk_at_the_terminal(
    radyar: Callable[..., tuple[int, str, str]],
) -> None:
    status, _, err = radyar("pickup", "123455")
    assert status == 2
    assert "No report has this pickup code. Please check it with the patient." in err
    status, _, err = radyar("pickup", "12")
    assert status == 2 and "No report has this pickup code" in err


def test_reception_books_at_the_desk_and_the_share_report_counts_it(
    radyar: Callable[..., tuple[int, str, str]],
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    patient = ("--national-code", "0499370899")
    details = ("--mobile", "09121234567", "--first-name", "علی", "--last-name", "رضایی")
    assert (
        radyar("patient", "add", *patient, *details, "--birth-year", "1360", "--sex", "male")[0]
        == 0
    )
    mri = ("book", *patient, "--exam", "MRI-KNEE", "--insurer", "tamin", "--phone")
    status, _, err = radyar(*mri)
    assert status == 2
    assert "ask the patient first" in err and "  pacemaker: " in err
    answers = ("--answer", "pacemaker=no", "--answer", "metal_implants=خیر")
    status, out, _ = radyar(*mri, *answers, "--answer", "claustrophobia=no")
    assert status == 0
    assert out.startswith("booked: code ") and "made on the phone" in out
    status, _, err = radyar(*mri, "--answer", "pacemaker=maybe")
    assert (status, "Write each answer like pregnancy=no" in err) == (2, True)
    today = datetime.now(TEHRAN).date()  # the command runs on the real clock
    first, last = jalali_iso(today), jalali_iso(today + timedelta(days=40))
    status, out, _ = radyar("report", "bookings", "--from", first, "--to", last)
    assert "Booked electronically: 0.0% of 1" in out


def test_day_end_and_forgiving_no_shows_at_the_terminal(
    radyar: Callable[..., tuple[int, str, str]],
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    assert radyar("day-end")[1] == "no-shows marked: 0\n"
    status, _, err = radyar("patient", "forgive-no-shows", "0499370899")
    assert (status, "No patient has this national code." in err) == (2, True)
    patient = ("--national-code", "0499370899", "--mobile", "09121234567")
    names = ("--first-name", "علی", "--last-name", "رضایی", "--birth-year", "1360")
    assert radyar("patient", "add", *patient, *names, "--sex", "male")[0] == 0
    status, out, _ = radyar("patient", "forgive-no-shows", "۰۴۹۹۳۷۰۸۹۹")
    assert status == 0
    assert out == "patient 1: 0 missed appointment(s) forgiven; booking in chat is open\n"
    status, _, err = radyar("walk-in", "ticket", "--national-code", "0499370899",
                            "--exam", "CT-BRAIN", "--insurer", "tamin")  # fmt: skip
    assert (status, "given by appointment" in err) == (2, True)
    status, out, _ = radyar("walk-in", "queue", "--device", "xr-1")
    assert (status, out) == (0, "no walk-ins on XR-1 today\n")


def test_a_second_sites_file_adds_it_beside_the_first(
    radyar: Callable[..., tuple[int, str, str]],
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    before = radyar("department", "export", "--site", "bojnurd-imam-reza/radiology")[1]
    status, out, _ = radyar("department", "import", str(DEPARTMENT.with_name("shirvan.yaml")))
    assert (status, out.splitlines()[0]) == (
        0, "devices: 2 added, 0 changed, 0 unchanged; closed ranges added: 0"
    )  # fmt: skip
    status, out, _ = radyar("sites", "list")
    assert status == 0
    assert "bojnurd-imam-reza/radiology  Medical imaging, Imam Reza Hospital, Bojnurd" in out
    assert "county: شیروان; HIS: SHIRVAN-RIS; phone: 058-3622-0000" in out
    assert "devices: SHV-CT-1, SHV-XR-1" in out
    assert "site: shirvan-imam-khomeini/radiology" in radyar("devices", "list")[1]
    # Bojnurd's site is as it was; each site exports on its own.
    assert radyar("department", "export", "--site", "bojnurd-imam-reza/radiology")[1] == before
    status, _, err = radyar("department", "export", "--site", "nowhere/radiology")
    assert status == 2 and err.startswith("radyar: ")
    # A closure of Shirvan whole is Shirvan's only.
    day = jalali_iso(datetime.now(TEHRAN).date() + timedelta(days=3))
    shirvan = "shirvan-imam-khomeini/radiology"
    status, out, _ = radyar("closure", "add", "--from", day, "--site", shirvan, "--reason", "برق")
    assert (status, "0 bookings affected" in out) == (0, True)
    assert f"from: {day}" in radyar("department", "export", "--site", shirvan)[1]
    assert radyar("department", "export", "--site", "bojnurd-imam-reza/radiology")[1] == before
