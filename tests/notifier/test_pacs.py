"""The Orthanc poller against a real Orthanc: StableStudy → images ready, once, cursor and all."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid
from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.intake_state import read_cursor, write_cursor
from clinic.jalali import TEHRAN
from clinic.models import (
    Booking,
    Department,
    OutboxMessage,
    RejectedMessage,
    Report,
    UnmatchedEvent,
)
from clinic.outbox import Notice
from clinic.sites import pacs_sources
from clinic.uow import UnitOfWork
from notifier.pacs import OrthancPoller
from radyar.hospitalrun import orthanc_pollers
from radyar.settings import Settings
from tests.factories import (
    RECEPTION,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)
from tests.orthanc import Orthanc, free_port, running_orthanc
from tests.two_sites import SITE_B_RIS, TwoSites, admit, booked, build_two_sites

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

pytestmark = pytest.mark.slow  # a real Orthanc, waiting for its changes to settle

MONDAY = date(2026, 11, 30)  # the day after the frozen clock's start
STUDY_DATE = MONDAY.strftime("%Y%m%d")
PATIENT_NAME = "رضایی^علی"
STABLE_WAIT = 30.0
CURSOR = "orthanc"

# Every test run (SQLite and PostgreSQL alike) gets patients no other run used, so a study left
# in the shared Orthanc by one run never fits another run's booking.
_patients = itertools.count(100)
_used_codes: set[str] = set()


def new_patient_number() -> int:
    n = next(_patients)
    _used_codes.add(national_code(n))
    return n


def new_accession() -> str:
    return "A" + uuid.uuid4().hex[:12].upper()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """One Orthanc for the module; each test starts reading at its current end."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture(autouse=True)
def no_personal_data_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with DEBUG logs captured; none may show a national code or a name."""
    caplog.set_level(logging.DEBUG)
    yield
    forbidden = [*_used_codes, "رضایی", "علی", "Test^Patient"]
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        if record.name.startswith("aiosqlite"):
            continue  # logs every SQL parameter at DEBUG: production keeps it at INFO
        text = record.getMessage()
        leaked = [word for word in forbidden if word in text]
        assert not leaked, f"personal data in a log record: {record.name} {record.levelname}"


def dicom(
    code: str | None, accession: str | None, study_uid: str, *, modality: str = "CT"
) -> bytes:
    """A small valid DICOM instance (8×8 secondary capture) of one study."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = code or "NOID"
    ds.PatientName = PATIENT_NAME
    if accession is not None:
        ds.AccessionNumber = accession
    ds.Modality = modality
    ds.StudyDate = STUDY_DATE
    ds.StudyTime = "091500"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(64)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _auth(server: Orthanc) -> dict[str, str]:
    token = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def upload(session: aiohttp.ClientSession, server: Orthanc, data: bytes) -> str:
    """POST /instances; returns the Orthanc id of the instance's study."""
    async with session.post(f"{server.url}/instances", data=data, headers=_auth(server)) as r:
        assert r.status == 200
        body = await r.json()
    assert body["Status"] in ("Success", "AlreadyStored")
    return str(body["ParentStudy"])


async def changes(session: aiohttp.ClientSession, server: Orthanc) -> dict[str, Any]:
    async with session.get(f"{server.url}/changes", headers=_auth(server)) as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
    return body


async def orthanc_last(session: aiohttp.ClientSession, server: Orthanc) -> int:
    async with session.get(f"{server.url}/changes?last", headers=_auth(server)) as r:
        assert r.status == 200
        return int((await r.json())["Last"])


async def stable_seqs(session: aiohttp.ClientSession, server: Orthanc, study: str) -> list[int]:
    """Seq of every StableStudy Orthanc logged for ``study``."""
    seqs: list[int] = []
    since = 0
    while True:
        async with session.get(
            f"{server.url}/changes", params={"since": since}, headers=_auth(server)
        ) as r:
            page = await r.json()
        seqs += [
            c["Seq"]
            for c in page["Changes"]
            if c["ChangeType"] == "StableStudy" and c["ID"] == study
        ]
        since = page["Last"]
        if page["Done"]:
            return seqs


async def wait_stable(
    session: aiohttp.ClientSession, server: Orthanc, study: str, count: int = 1
) -> None:
    """Until Orthanc has logged ``count`` StableStudy changes for ``study`` (bounded)."""
    deadline = time.monotonic() + STABLE_WAIT
    while len(await stable_seqs(session, server, study)) < count:
        assert time.monotonic() < deadline, "no StableStudy from Orthanc"
        await asyncio.sleep(0.2)


async def poll_until(poller: OrthancPoller, studies: int = 1) -> int:
    """poll_once until it has handled ``studies`` StableStudy changes (bounded)."""
    handled = 0
    deadline = time.monotonic() + STABLE_WAIT
    while handled < studies:
        assert time.monotonic() < deadline, f"only {handled} of {studies} studies handled"
        handled += await poller.poll_once()
        if handled < studies:
            await asyncio.sleep(0.2)
    return handled


def make_poller(
    uow: Any, session: aiohttp.ClientSession, server: Orthanc, **kwargs: Any
) -> OrthancPoller:
    return OrthancPoller(
        uow, session, server.url, user=server.user, password=server.password, **kwargs
    )


async def start_at_end(env: ClinicEnv, session: aiohttp.ClientSession, server: Orthanc) -> int:
    """Store Orthanc's current last seq as our cursor: earlier tests' studies are not ours."""
    last = await orthanc_last(session, server)
    async with env.uow() as uow:
        await write_cursor(uow, CURSOR, last)
        await uow.commit()
    return last


async def cursor(env: ClinicEnv) -> int | None:
    async with env.uow() as uow:
        return await read_cursor(uow, CURSOR)


async def images_ready_rows(env: ClinicEnv, patient_id: int | None = None) -> int:
    """Outbox rows of kind images_ready, whatever their status."""
    async with env.uow() as uow:
        stmt = select(func.count()).where(OutboxMessage.kind == Notice.IMAGES_READY.value)
        if patient_id is not None:
            stmt = stmt.where(OutboxMessage.recipient_id == patient_id)
        return int(await uow.session.scalar(stmt) or 0)


@dataclass
class Admitted:
    patient_id: int
    code: str
    booking_id: int


async def admitted_patient(env: ClinicEnv, accession: str | None) -> Admitted:
    """A CT brain booking on Monday 09:00, checked in (with ``accession`` when given)."""
    n = new_patient_number()
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, n)
        me = Actor.patient(patient)
        referral = await approved_referral(uow, patient, dept.ct_brain)
        start = datetime.combine(MONDAY, datetime.min.time(), tzinfo=TEHRAN).replace(hour=9)
        hold = await hold_slot(uow, me, referral, dept.ct.id, start)
        booking = await confirm_booking(uow, me, hold.id)
        await uow.commit()
    env.clock.set(start.replace(minute=10))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number=accession)
        await uow.commit()
    return Admitted(patient, national_code(n), booking.id)


class CommitSpy(UnitOfWork):
    """A unit of work that notes (cursor, images_ready rows) right after each commit."""

    seen: list[tuple[int | None, int]]

    async def commit(self) -> None:
        await super().commit()
        rows = await self.session.scalar(
            select(func.count()).where(OutboxMessage.kind == Notice.IMAGES_READY.value)
        )
        self.seen.append((await read_cursor(self, CURSOR), int(rows or 0)))


async def test_a_stable_study_notifies_the_patient_once(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    accession = new_accession()
    patient = await admitted_patient(env, accession)
    await start_at_end(env, session, orthanc)
    seen: list[tuple[int | None, int]] = []

    def spy() -> UnitOfWork:
        uow = CommitSpy(env.sessionmaker, env.clock, env.policy)
        uow.seen = seen
        return uow

    poller = make_poller(spy, session, orthanc)
    study_uid = generate_uid()
    study = await upload(session, orthanc, dicom(patient.code, accession, study_uid))

    assert await poll_until(poller) == 1
    [seq] = await stable_seqs(session, orthanc, study)
    assert await images_ready_rows(env, patient.patient_id) == 1
    # the commit that wrote the notice wrote the cursor at the StableStudy's seq with it
    assert next(at for at, rows in seen if rows == 1) == seq
    assert await cursor(env) == await orthanc_last(session, orthanc)
    async with env.uow() as uow:
        booking = await uow.session.get(Booking, patient.booking_id)
        report = await uow.session.scalar(
            select(Report).where(Report.booking_id == patient.booking_id)
        )
    assert booking is not None and booking.status == "completed"
    assert report is not None and report.images_ready_at is not None

    # a later instance makes the study stable again: handled, but nobody hears twice
    await upload(session, orthanc, dicom(patient.code, accession, study_uid))
    assert await poll_until(poller) == 1
    assert len(await stable_seqs(session, orthanc, study)) == 2
    assert await images_ready_rows(env, patient.patient_id) == 1
    assert await cursor(env) == await orthanc_last(session, orthanc)


async def test_an_unknown_accession_joins_the_one_admitted_booking(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    patient = await admitted_patient(env, accession=None)
    await start_at_end(env, session, orthanc)
    poller = make_poller(env.uow, session, orthanc)
    accession = new_accession()
    await upload(session, orthanc, dicom(patient.code, accession, generate_uid()))

    assert await poll_until(poller) == 1
    assert await images_ready_rows(env, patient.patient_id) == 1
    async with env.uow() as uow:
        report = await uow.session.scalar(
            select(Report).where(Report.accession_number == accession)
        )
        waiting = await uow.session.scalar(select(func.count()).select_from(UnmatchedEvent))
    assert report is not None and report.booking_id == patient.booking_id
    assert waiting == 0


async def test_an_unknown_accession_without_a_booking_waits_for_staff(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    async with env.uow() as uow:
        await build_department(uow)
        n = new_patient_number()
        await add_patient(uow, n)  # registered, but nothing booked that day
        await uow.commit()
    await start_at_end(env, session, orthanc)
    poller = make_poller(env.uow, session, orthanc)
    accession = new_accession()
    study = await upload(session, orthanc, dicom(national_code(n), accession, generate_uid()))

    assert await poll_until(poller) == 1
    async with env.uow() as uow:
        kept = list(await uow.session.scalars(select(UnmatchedEvent)))
    assert [(e.source, e.kind, e.accession_number) for e in kept] == [
        ("pacs", "images_ready", accession)
    ]
    assert kept[0].payload["orthanc_study"] == study
    assert await images_ready_rows(env) == 0


async def test_studies_without_a_usable_accession_are_kept_as_rejected(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    n = new_patient_number()
    await start_at_end(env, session, orthanc)
    poller = make_poller(env.uow, session, orthanc)
    none = await upload(session, orthanc, dicom(national_code(n), None, generate_uid()))
    bad = await upload(session, orthanc, dicom(national_code(n), "ACC#1 ?", generate_uid()))

    assert await poll_until(poller, studies=2) == 2
    async with env.uow() as uow:
        kept = list(
            await uow.session.scalars(select(RejectedMessage).order_by(RejectedMessage.id))
        )
    by_study = {json.loads(m.body)["orthanc_study"]: m for m in kept}
    assert by_study[none].reason == "study without accession number"
    assert by_study[bad].reason == "malformed accession number"
    for message in kept:
        assert message.source == "pacs"
        assert national_code(n) not in message.body
        assert json.loads(message.body)["modality"] == "CT"
    assert await cursor(env) == await orthanc_last(session, orthanc)
    assert await images_ready_rows(env) == 0


async def test_a_replaced_orthanc_database_is_read_again_from_the_start(
    env: ClinicEnv,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accession = new_accession()
    patient = await admitted_patient(env, accession)
    study_uid = generate_uid()
    port = free_port()
    with running_orthanc(tmp_path / "before", port) as before:
        poller = make_poller(env.uow, session, before)
        await upload(session, before, dicom(patient.code, accession, study_uid))
        await poll_until(poller)
        await upload(session, before, dicom(patient.code, accession, study_uid))
        await poll_until(poller)
    ahead = await cursor(env)
    assert ahead is not None
    # the same address, an empty database (restored elsewhere, or reinstalled)
    with running_orthanc(tmp_path / "after", port) as after:
        study = await upload(session, after, dicom(patient.code, accession, study_uid))
        await wait_stable(session, after, study)
        assert await orthanc_last(session, after) < ahead
        poller = make_poller(env.uow, session, after)
        caplog.clear()

        assert await poll_until(poller) == 1
        assert await cursor(env) == await orthanc_last(session, after)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "reset" in warnings[0].getMessage()
    assert await images_ready_rows(env, patient.patient_id) == 1


async def test_a_cursor_far_ahead_is_reset_without_notifying_twice(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    accession = new_accession()
    patient = await admitted_patient(env, accession)
    await start_at_end(env, session, orthanc)
    poller = make_poller(env.uow, session, orthanc)
    await upload(session, orthanc, dicom(patient.code, accession, generate_uid()))
    await poll_until(poller)
    async with env.uow() as uow:
        await write_cursor(uow, CURSOR, 10**6)
        await uow.commit()

    handled = await poll_until(poller)  # the whole shared log again, every earlier test's too

    assert handled >= 1
    assert await cursor(env) == await orthanc_last(session, orthanc)
    assert await images_ready_rows(env, patient.patient_id) == 1
    assert await images_ready_rows(env) == 1


async def test_orthanc_down_changes_nothing(
    sqlite_env: ClinicEnv, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    env = sqlite_env
    async with env.uow() as uow:
        await write_cursor(uow, CURSOR, 5)
        await uow.commit()
    poller = OrthancPoller(env.uow, session, f"http://127.0.0.1:{free_port()}", timeout=2)

    assert await poller.poll_once() == 0
    assert await cursor(env) == 5
    assert [r.levelname for r in caplog.records if r.name == "notifier.pacs"] == ["WARNING"]


async def test_a_wrong_password_changes_nothing(
    sqlite_env: ClinicEnv,
    orthanc: Orthanc,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = sqlite_env
    poller = OrthancPoller(env.uow, session, orthanc.url, user=orthanc.user, password="wrong")

    assert await poller.poll_once() == 0
    assert await cursor(env) is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "notifier.pacs"]
    assert "401" in line
    assert "wrong" not in line


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "boom 0499370899"), (200, "<html>not json 0499370899</html>"), (200, '{"Last": 1}')],
    ids=["5xx", "not-json", "wrong-shape"],
)
async def test_a_broken_answer_changes_nothing(
    sqlite_env: ClinicEnv,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
) -> None:
    env = sqlite_env
    _used_codes.add("0499370899")  # the body carries a national code; no log may repeat it

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/changes", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        poller = OrthancPoller(env.uow, session, f"http://127.0.0.1:{port}")
        assert await poller.poll_once() == 0
    finally:
        await runner.cleanup()
    assert await cursor(env) is None
    assert len([r for r in caplog.records if r.name == "notifier.pacs"]) == 1


async def test_run_polls_until_stopped(
    sqlite_env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    env = sqlite_env
    await upload(
        session, orthanc, dicom(national_code(new_patient_number()), None, generate_uid())
    )
    poller = make_poller(env.uow, session, orthanc)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop, every=0.05))
    deadline = time.monotonic() + 10
    while await cursor(env) is None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await cursor(env) == await orthanc_last(session, orthanc)


async def test_a_replaced_database_that_already_reached_our_cursor_is_noticed(
    env: ClinicEnv,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accession = new_accession()
    patient = await admitted_patient(env, accession)
    port = free_port()
    with running_orthanc(tmp_path / "before", port) as before:
        await upload(session, before, dicom(patient.code, accession, generate_uid()))
        await poll_until(make_poller(env.uow, session, before))
    reached = await cursor(env)
    assert reached is not None
    with running_orthanc(tmp_path / "after", port) as after:
        study = await upload(session, after, dicom(patient.code, accession, generate_uid()))
        await wait_stable(session, after, study)
        [seq] = await stable_seqs(session, after, study)
        while await orthanc_last(session, after) < reached:  # more images arrive meanwhile
            await upload(session, after, dicom(patient.code, new_accession(), generate_uid()))
        # Sequence numbers alone cannot tell: the new log has reached our cursor, and this
        # study's StableStudy lies before it.
        assert seq <= reached
        caplog.clear()
        handled = await make_poller(env.uow, session, after).poll_once()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("replaced" in w for w in warnings), warnings
        assert handled >= 1  # the study before our old cursor was read
        assert await cursor(env) == await orthanc_last(session, after)
    assert await images_ready_rows(env, patient.patient_id) == 1  # already told, not again


async def numbered_at_both(
    env: ClinicEnv, accession: str
) -> tuple[TwoSites, tuple[int, int], list[int]]:
    """A patient admitted at each site at 09:00 Monday, both exams numbered ``accession``
    by their hospital's RIS; (the sites, the patients' numbers, their ids)."""
    start = datetime.combine(MONDAY, datetime.min.time(), tzinfo=TEHRAN).replace(hour=9)
    async with env.uow() as uow:
        two = await build_two_sites(uow)
        numbers = new_patient_number(), new_patient_number()
        patients = [await add_patient(uow, n) for n in numbers]
        at_a = await booked(uow, patients[0], two.dept.ct_brain, two.dept.ct, start)
        at_b = await booked(uow, patients[1], two.dept.ct_brain, two.ct_b, start)
        await uow.commit()
    env.clock.set(start.replace(minute=10))
    async with env.uow() as uow:
        for booking in (at_a, at_b):
            await admit(uow, booking, accession)
        await uow.commit()
    return two, numbers, patients


async def test_a_pacs_reads_for_its_own_site_only_and_never_for_a_guessed_one(
    env: ClinicEnv,
    orthanc: Orthanc,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Both hospitals' RISes numbered their patient's exam alike; this Orthanc is Shirvan's.
    accession = new_accession()
    _two, numbers, patients = await numbered_at_both(env, accession)
    last = await start_at_end(env, session, orthanc)
    study = await upload(
        session, orthanc, dicom(national_code(numbers[1]), accession, generate_uid())
    )
    await wait_stable(session, orthanc, study)

    # Not told which site it serves, among two: it reads nothing, and the change waits.
    assert await make_poller(env.uow, session, orthanc).poll_once() == 0
    assert await cursor(env) == last
    assert await images_ready_rows(env) == 0
    assert any("orthanc poll skipped" in r.getMessage() for r in caplog.records)

    assert await poll_until(make_poller(env.uow, session, orthanc, site=SITE_B_RIS)) == 1
    assert await images_ready_rows(env, patients[1]) == 1
    assert await images_ready_rows(env) == 1


async def test_a_hospitals_own_orthanc_from_the_department_file_is_polled_for_its_site(
    env: ClinicEnv, orthanc: Orthanc, session: aiohttp.ClientSession
) -> None:
    # No RADYAR_ORTHANC_URL: Shirvan's row names its own Orthanc; Bojnurd has none.
    accession = new_accession()
    two, numbers, patients = await numbered_at_both(env, accession)
    async with env.uow() as uow:
        shirvan = await uow.session.get_one(Department, two.site_b)
        shirvan.orthanc_url = orthanc.url
        sources = await pacs_sources(uow)
        await write_cursor(
            uow, "orthanc:shirvan-imam-khomeini", await orthanc_last(session, orthanc)
        )
        await uow.commit()
    settings = Settings.from_env(
        {"RADYAR_ORTHANC_USER": orthanc.user, "RADYAR_ORTHANC_PASSWORD": orthanc.password}
    )
    (poller,) = orthanc_pollers(settings, env.uow, session, sources)
    assert (poller.cursor_name, poller.site) == ("orthanc:shirvan-imam-khomeini", SITE_B_RIS)
    study = await upload(
        session, orthanc, dicom(national_code(numbers[1]), accession, generate_uid())
    )
    await wait_stable(session, orthanc, study)
    assert await poll_until(poller) == 1
    assert await images_ready_rows(env, patients[1]) == 1
    assert await images_ready_rows(env, patients[0]) == 0
    # With RADYAR_ORTHANC_URL the same Orthanc too, it is polled once, under the old cursor.
    both = Settings.from_env(
        {"RADYAR_ORTHANC_URL": orthanc.url, "RADYAR_ORTHANC_SITE": SITE_B_RIS}
    )
    assert [p.cursor_name for p in orthanc_pollers(both, env.uow, session, sources)] == [CURSOR]
