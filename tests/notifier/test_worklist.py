"""The DICOM Modality Worklist: admitted bookings served to dcmtk's findscu and to pynetdicom's
own SCU over loopback, from a real SQLite database, and its settings."""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest
from pydicom import config, dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from clinic.booking import cancel_booking
from clinic.daylist import complete
from clinic.jalali import TEHRAN
from clinic.worklist import worklist
from notifier.outbound.worklist import WorklistScp
from radyar.app import App
from radyar.settings import Settings
from radyar.settings.parse import SettingsError
from radyar.settings.worklist import WorklistSettings, worklist_settings
from radyar.worklist_run import serve_worklist
from tests.conftest import REQUIRE_SERVICES
from tests.factories import RECEPTION, add_patient, national_code
from tests.two_sites import SITE_A_RIS, admit, booked, build_two_sites

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

SATURDAY, SUNDAY, MONDAY = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)
NAME = "رضایی^علی"  # every test patient is علی رضایی
CONSOLE = "CT_CONSOLE"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TEHRAN)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Day:
    """The bookings seeded: their codes, and who is whom (patient n has national code n)."""

    ct_first: str  # Sunday 09:00, site A's CT, admitted with accession ACC-1001
    ct_second: str  # Sunday 09:15, site A's CT, admitted without one
    mri: str  # Sunday 09:00, site A's MRI, admitted
    monday: str  # Monday 09:00, site A's CT, admitted on Monday
    cancelled: str  # Sunday 09:30, site A's CT, cancelled
    confirmed: str  # Sunday 09:45, site A's CT, booked but not admitted
    site_b: str  # Sunday 09:00, site B's CT, admitted


@pytest.fixture
async def day(sqlite_env: ClinicEnv) -> Day:
    """Booked on Saturday; Sunday's admitted at 08:50, Monday's at 08:50 Monday, where the
    clock stays."""
    env = sqlite_env
    env.clock.set(at(SATURDAY, 10))
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        dept = two.dept
        p = [await add_patient(uow, n) for n in range(7)]
        ct_first = await booked(uow, p[0], dept.ct_brain, dept.ct, at(SUNDAY, 9))
        ct_second = await booked(uow, p[1], dept.ct_brain, dept.ct, at(SUNDAY, 9, 15))
        mri = await booked(uow, p[2], dept.mri_knee, dept.mri, at(SUNDAY, 9))
        monday = await booked(uow, p[3], dept.ct_brain, dept.ct, at(MONDAY, 9))
        cancelled = await booked(uow, p[4], dept.ct_brain, dept.ct, at(SUNDAY, 9, 30))
        confirmed = await booked(uow, p[5], dept.ct_brain, dept.ct, at(SUNDAY, 9, 45))
        site_b = await booked(uow, p[6], dept.ct_brain, two.ct_b, at(SUNDAY, 9))
        await uow.commit()
    env.clock.set(at(SUNDAY, 8, 50))
    async with env.uow() as uow:
        await admit(uow, ct_first, "ACC-1001")
        for booking in (ct_second, mri, site_b):
            await admit(uow, booking, None)
        await cancel_booking(uow, RECEPTION, cancelled.id, reason="staff")
        await uow.commit()
    env.clock.set(at(MONDAY, 8, 50))
    async with env.uow() as uow:
        await admit(uow, monday, None)
        await uow.commit()
    return Day(
        ct_first.code, ct_second.code, mri.code, monday.code, cancelled.code, confirmed.code,
        site_b.code,
    )  # fmt: skip


@pytest.fixture
async def scp(sqlite_env: ClinicEnv, day: Day) -> AsyncIterator[WorklistScp]:
    """Site A's worklist on a free loopback port; only the CT console may ask."""
    async with WorklistScp(
        sqlite_env.uow, port=0, allowed_callers=(CONSOLE,), site=SITE_A_RIS
    ) as server:
        yield server


# --- dcmtk's findscu, as a modality's console asks --------------------------------------

RETURN_KEYS = [
    "AccessionNumber", "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate",
    "PatientSex", "StudyInstanceUID", "RequestedProcedureID", "RequestedProcedureDescription",
    "ScheduledProcedureStepSequence[0].ScheduledStationAETitle",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepID",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus",
]  # fmt: skip


@pytest.fixture
def findscu_path() -> str:
    """The path of dcmtk's findscu; skip (or, in CI, fail) when dcmtk is not installed."""
    found = shutil.which("findscu")
    if found is None:
        reason = "dcmtk's findscu not installed (apt-get install dcmtk)"
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (RADYAR_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return found


def responses(folder: Path) -> list[Dataset]:
    """The responses findscu wrote (rsp0001.dcm, …), in order."""
    return [dcmread(path, force=True) for path in sorted(folder.glob("rsp*.dcm"))]


async def findscu(
    binary: str, port: int, out: Path, *keys: str, calling: str = CONSOLE
) -> tuple[int, str, list[Dataset]]:
    """The exit code of findscu asking ``keys``, its output and the responses it wrote."""
    await asyncio.to_thread(out.mkdir)
    args = [arg for key in [*RETURN_KEYS, *keys] for arg in ("-k", key)]
    process = await asyncio.create_subprocess_exec(
        binary, "-W", "-aet", calling, "-aec", "RADYAR", "-to", "10", "-ta", "10",
        "-X", "-od", str(out), *args, "127.0.0.1", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    found = await asyncio.to_thread(responses, out)
    return process.returncode or 0, output.decode("utf-8", "replace"), found


def step(ds: Dataset) -> Dataset:
    item: Dataset = ds.ScheduledProcedureStepSequence[0]
    return item


@pytest.mark.slow  # findscu is a subprocess
async def test_findscu_gets_the_days_admitted_patients_with_their_persian_names(
    findscu_path: str, scp: WorklistScp, day: Day, tmp_path: Path
) -> None:
    code, output, found = await findscu(
        findscu_path, scp.port, tmp_path / "sunday",
        "ScheduledProcedureStepSequence[0].Modality=CT",
        "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20261129",
    )  # fmt: skip
    assert code == 0, output
    assert [r.RequestedProcedureID for r in found] == [day.ct_first, day.ct_second]
    first, second = found
    assert first.SpecificCharacterSet == "ISO_IR 192"
    assert str(first.PatientName) == NAME
    assert first.AccessionNumber == "ACC-1001"
    assert second.AccessionNumber == day.ct_second  # no accession number yet: the booking code
    assert (first.PatientID, first.IssuerOfPatientID) == (national_code(0), "NNIRN")
    assert (first.PatientBirthDate, first.PatientSex) == ("19810321", "M")  # 1 Farvardin 1360
    assert first.RequestedProcedureDescription == "سی‌تی‌اسکن مغز بدون تزریق"
    assert first.StudyInstanceUID.startswith("2.25.")
    assert first.StudyInstanceUID != second.StudyInstanceUID
    assert [step(r).ScheduledProcedureStepStartTime for r in found] == ["090000", "091500"]
    assert step(first).ScheduledStationAETitle == "CT-1"
    assert step(first).ScheduledProcedureStepID == day.ct_first
    assert step(first).ScheduledProcedureStepStatus == "ARRIVED"
    # Asked for and nothing else (the modality was a matching key, not asked back).
    assert "Modality" in step(first) and "PatientComments" not in first


@pytest.mark.slow  # findscu is a subprocess
async def test_findscu_without_a_date_gets_today_only(
    findscu_path: str, scp: WorklistScp, day: Day, tmp_path: Path
) -> None:
    today = "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate"  # empty
    code, output, found = await findscu(findscu_path, scp.port, tmp_path / "today", today)
    assert code == 0, output
    assert [r.RequestedProcedureID for r in found] == [day.monday]
    again = await findscu(findscu_path, scp.port, tmp_path / "again")
    assert [r.StudyInstanceUID for r in again[2]] == [found[0].StudyInstanceUID]


@pytest.mark.slow  # findscu is a subprocess
async def test_findscu_from_a_console_not_allowed_is_refused(
    findscu_path: str, scp: WorklistScp, day: Day, tmp_path: Path
) -> None:
    code, output, found = await findscu(
        findscu_path, scp.port, tmp_path / "other", calling="MR_CONSOLE"
    )
    assert code != 0
    assert "Association Rejected" in output and "Calling AE Title Not Recognized" in output
    assert found == []


# --- pynetdicom's own SCU: the query's filters --------------------------------------------

Found = list[tuple[int, Dataset | None]]


def scu_find(port: int, query: Dataset, calling: str, called: str) -> Found | None:
    """Every response (status, identifier) to one C-FIND; None when the association is refused."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    if not assoc.is_established:
        return None
    try:
        return [
            (int(status.Status), identifier)
            for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind)
        ]
    finally:
        assoc.release()


async def ask(
    port: int, query: Dataset, *, calling: str = CONSOLE, called: str = "RADYAR"
) -> Found | None:
    """``scu_find`` off the event loop, which answers the SCP's queries meanwhile."""
    return await asyncio.to_thread(scu_find, port, query, calling, called)


def query(day: str = "", modality: str = "", station: str = "", **keys: str) -> Dataset:
    """A worklist query on the step's date, modality and station, with more top-level keys."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    for keyword in ("AccessionNumber", "PatientName", "PatientID", "RequestedProcedureID"):
        setattr(ds, keyword, keys.pop(keyword, ""))
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    item = Dataset()
    item.ScheduledProcedureStepStartDate = day
    item.Modality = modality
    item.ScheduledStationAETitle = station
    item.ScheduledProcedureStepStartTime = ""
    ds.ScheduledProcedureStepSequence = [item]
    return ds


async def codes(port: int, ask_for: Dataset) -> list[str]:
    """The booking codes found, in order; every response but the last one pending."""
    found = await ask(port, ask_for)
    assert found is not None
    *pending, (last, _) = found
    assert last == 0x0000 and all(status == 0xFF00 for status, _ in pending)
    return [str(identifier.RequestedProcedureID) for _, identifier in pending if identifier]


@pytest.fixture
async def every_site(sqlite_env: ClinicEnv, day: Day) -> AsyncIterator[WorklistScp]:
    """The worklist of every site, for any caller."""
    async with WorklistScp(sqlite_env.uow, port=0) as server:
        yield server


async def test_the_step_keys_choose_the_day_the_modality_and_the_device(
    every_site: WorklistScp, day: Day
) -> None:
    port = every_site.port
    sunday = [day.ct_first, day.mri, day.site_b, day.ct_second]  # by time; then as booked
    assert await codes(port, query("20261129")) == sunday
    assert await codes(port, query("20261129", "MR")) == [day.mri]
    assert await codes(port, query("20261129", station="ct-shirvan")) == [day.site_b]
    assert await codes(port, query("20261129", "CT", "CT-1")) == [day.ct_first, day.ct_second]
    assert await codes(port, query("20261129", "DX")) == []  # radiography: no such device
    assert await codes(port, query("20261129", "PT")) == []  # a modality we have none of
    both = [day.ct_first, day.site_b, day.ct_second, day.monday]
    assert await codes(port, query("20261129-20261130", "CT")) == both
    assert await codes(port, query("-20261130", "CT")) == both  # the week up to Monday
    assert await codes(port, query("20261130-20261129")) == []
    assert await codes(port, query("20261128")) == []  # Saturday: nobody admitted
    assert await codes(port, query()) == [day.monday]  # today


async def test_the_patient_keys_match_the_national_code_and_the_name(
    every_site: WorklistScp, day: Day
) -> None:
    port = every_site.port
    assert await codes(port, query("20261129", PatientID=national_code(1))) == [day.ct_second]
    assert await codes(port, query("20261129", PatientID="0790*")) == [day.ct_second]
    named = await codes(port, query("20261129", "CT", PatientName="رضایی^علی"))
    assert named == [day.ct_first, day.site_b, day.ct_second]
    assert await codes(port, query("20261129", "CT", PatientName="رضا*")) == named
    assert await codes(port, query("20261129", PatientName="احمدی")) == []


async def test_keys_asked_for_are_answered_and_no_others(
    every_site: WorklistScp, day: Day
) -> None:
    ask_for = query("20261129", "MR", PatientWeight="")
    found = await ask(every_site.port, ask_for)
    assert found is not None and len(found) == 2
    answer = found[0][1]
    assert answer is not None
    assert answer.SpecificCharacterSet == "ISO_IR 192"
    assert str(answer.PatientName) == NAME
    assert answer.PatientWeight in (None, "")  # not ours to know: returned empty
    assert "PatientBirthDate" not in answer and "StudyInstanceUID" not in answer
    item = answer.ScheduledProcedureStepSequence[0]
    assert (item.Modality, item.ScheduledStationAETitle) == ("MR", "MRI-1")
    assert item.ScheduledProcedureStepStartTime == "090000"
    assert "ScheduledProcedureStepDescription" not in item


async def test_an_unreadable_query_and_an_unknown_site_get_a_failure_not_a_list(
    sqlite_env: ClinicEnv, every_site: WorklistScp, day: Day
) -> None:
    with config.disable_value_validation():  # what a careless console may send
        unreadable = query("2026-11-29")
    found = await ask(every_site.port, unreadable)
    assert found is not None and [status for status, _ in found] == [0xA900]
    async with WorklistScp(sqlite_env.uow, port=0, site="NO-SUCH-RIS") as misnamed:
        found = await ask(misnamed.port, query("20261129"))
    assert found is not None and [status for status, _ in found] == [0xC000]
    async with WorklistScp(sqlite_env.uow, port=0, site="shirvan-ris") as site_b:
        assert await codes(site_b.port, query("20261129")) == [day.site_b]


async def test_a_caller_must_be_allowed_and_call_us_by_our_title(
    scp: WorklistScp, day: Day
) -> None:
    assert await ask(scp.port, query(), calling="MR_CONSOLE") is None
    assert await ask(scp.port, query(), called="ANY-SCP") is None
    assert await codes(scp.port, query()) == [day.monday]


# --- the core's list, on SQLite and PostgreSQL ----------------------------------------------


async def test_the_worklist_lists_admitted_bookings_only(env: ClinicEnv) -> None:
    env.clock.set(at(SATURDAY, 10))
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        first, second = await add_patient(uow, 0, sex="female"), await add_patient(uow, 1)
        admitted = await booked(uow, first, two.dept.ct_brain, two.dept.ct, at(SUNDAY, 9))
        waiting = await booked(uow, second, two.dept.ct_brain, two.dept.ct, at(SUNDAY, 10))
        await uow.commit()
    env.clock.set(at(SUNDAY, 8, 50))
    async with env.uow() as uow:
        await admit(uow, admitted, "ACC-7")
        await admit(uow, admitted, "ACC-8")  # reception corrected it: the latest counts
        await uow.commit()
    async with env.uow().reading() as uow:
        entries = await worklist(uow, SUNDAY)
        assert await worklist(uow, SUNDAY, site_id=two.site_b) == []
        assert await worklist(uow, SUNDAY, modality="MR") == []
    assert [e.booking_code for e in entries] == [admitted.code]
    assert waiting.code not in [e.booking_code for e in entries]
    (entry,) = entries
    assert (entry.accession, entry.sex, entry.modality, entry.device_code) == (
        "ACC-8", "F", "CT", "CT-1",
    )  # fmt: skip
    assert (entry.first_name, entry.last_name, entry.exam_code) == ("علی", "رضایی", "CT-BRAIN")
    assert entry.starts_at == at(SUNDAY, 9) and entry.starts_at.tzinfo == TEHRAN
    assert entry.birth_date == date(1981, 3, 21)  # 1 Farvardin 1360
    assert entry.site_id == two.site_a
    async with env.uow() as uow:  # the exam is done: off the console's list
        await complete(uow, RECEPTION, admitted.id)
        await uow.commit()
    async with env.uow().reading() as uow:
        assert await worklist(uow, SUNDAY) == []


# --- radyar run's part and the settings ---------------------------------------------------


async def test_serve_worklist_serves_until_stopped_and_not_at_all_when_off(
    sqlite_env: ClinicEnv, day: Day, tmp_path: Path
) -> None:
    settings = Settings.from_env({"RADYAR_DATA_DIR": str(tmp_path)})
    app = App(settings, sqlite_env.engine, sqlite_env.sessionmaker, sqlite_env.clock)
    await asyncio.wait_for(serve_worklist(WorklistSettings(), app, asyncio.Event()), 1)
    port = free_port()
    on = worklist_settings({"RADYAR_MWL_PORT": str(port), "RADYAR_MWL_SITE": SITE_A_RIS})
    stop = asyncio.Event()
    task = asyncio.create_task(serve_worklist(on, app, stop))
    try:
        for _ in range(100):  # until it listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert await codes(port, query()) == [day.monday]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


def test_worklist_settings_are_off_by_default_and_read_as_documented() -> None:
    off = worklist_settings({})
    assert off == WorklistSettings() and not off.enabled
    on = worklist_settings(
        {
            "RADYAR_MWL_PORT": "11112",
            "RADYAR_MWL_HOST": " 10.0.5.2 ",
            "RADYAR_MWL_AE_TITLE": "BOJNURD_MWL",
            "RADYAR_MWL_ALLOWED_CALLERS": "CT_CONSOLE, MR_CONSOLE,,CT_CONSOLE",
            "RADYAR_MWL_SITE": " BOJNURD-RIS ",
        }
    )
    assert on.enabled and (on.host, on.port, on.ae_title) == ("10.0.5.2", 11112, "BOJNURD_MWL")
    assert on.allowed_callers == ("CT_CONSOLE", "MR_CONSOLE")
    assert on.site == "BOJNURD-RIS"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RADYAR_MWL_PORT", "dicom", "whole number"),
        ("RADYAR_MWL_PORT", "70000", "between 0 and 65535"),
        ("RADYAR_MWL_AE_TITLE", "A_TITLE_OVER_16_CHARS", "AE title"),
        ("RADYAR_MWL_AE_TITLE", "RAD\\YAR", "no backslash"),
        ("RADYAR_MWL_AE_TITLE", "رادیار", "AE title"),
        ("RADYAR_MWL_ALLOWED_CALLERS", "CT_CONSOLE,MR\tCONSOLE", "ALLOWED_CALLERS"),
        ("RADYAR_MWL_HOST", "not a host", "IP address or a host name"),
    ],
)
def test_worklist_settings_refuse_bad_values_saying_which(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=name.removeprefix("RADYAR_")) as raised:
        worklist_settings({"RADYAR_MWL_PORT": "11112", name: value})
    assert says in str(raised.value)
