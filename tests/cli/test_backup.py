"""``radyar backup`` and ``radyar restore`` at the server's terminal, on SQLite and PostgreSQL: a
patient books through the real bot with a photo of the paper prescription; the backup is made
while the bot runs; the source is then removed, the backup restored into a fresh database and
data folder, and the bot carries on there: the patient finds and cancels the booking, the photo
is the same bytes, the audit log's chain verifies. A damaged archive changes nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.conversations import request as req
from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from bot.keyboards import MY_APPOINTMENTS, NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.clock import FrozenClock
from clinic.db import make_engine, make_sessionmaker
from clinic.demo import seed_demo
from clinic.models import AuditEntry, Booking, Insurer, Referral
from clinic.policy import Policy
from clinic.text import to_persian_digits
from radyar.backup_db import head_revision
from radyar.cli import main
from tests.bot.flows import register
from tests.bot.harness import running
from tests.conftest import START, ClinicEnv, create_pg_database, drop_pg_database, require_pg

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sandbox.botapi.world import BotState
    from tests.bot.harness import Harness

CR_CHEST = "رادیوگرافی قفسه سینه"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a JPEG's first bytes, then anything


@dataclass
class Place:
    """One deployment's database and data folder."""

    kind: str
    url: str
    data: Path


def sqlite_place(data: Path) -> Place:
    return Place("sqlite", f"sqlite+aiosqlite:///{data / 'radyar.db'}", data)


class Terminal:
    """``radyar`` commands as the operator types them, against one place or another."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    async def __call__(self, place: Place, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setenv("RADYAR_DATABASE_URL", place.url)
        self.monkeypatch.setenv("RADYAR_DATA_DIR", str(place.data))
        # main() runs its own event loop, as at the terminal: in a thread beside the bot's.
        status = await asyncio.to_thread(main, list(args))
        captured = self.capsys.readouterr()
        return status, captured.out, captured.err


@pytest.fixture
def radyar(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Terminal:
    return Terminal(monkeypatch, capsys)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def places(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Place, Place]]:
    """Where the bot ran, and a fresh place to restore into (another database)."""
    if request.param == "sqlite":
        yield (
            sqlite_place(tmp_path / "a"),
            sqlite_place(tmp_path / "b"),
        )
        return
    await require_pg()
    names = (f"radyar_backup_a_{os.getpid()}", f"radyar_backup_b_{os.getpid()}")
    urls = [await create_pg_database(name) for name in names]
    try:
        yield (
            Place("postgresql", urls[0], tmp_path / "a"),
            Place("postgresql", urls[1], tmp_path / "b"),
        )
    finally:
        for name in names:
            await drop_pg_database(name)


def clinic_env(place: Place) -> ClinicEnv:
    engine = make_engine(place.url)
    return ClinicEnv(engine, make_sessionmaker(engine), FrozenClock(START), Policy(), place.kind)


def bot_of(harness: Harness) -> BotState:
    return next(iter(harness.sandbox.world.bots.values()))


async def remove(place: Place) -> None:
    """The machine the bot ran on is gone: its database and its data folder."""
    shutil.rmtree(place.data)
    if place.kind == "postgresql":
        await drop_pg_database(place.url.rsplit("/", 1)[-1])


async def test_a_restored_backup_carries_on(places: tuple[Place, Place], radyar: Terminal) -> None:
    source, target = places
    assert (await radyar(source, "db", "upgrade"))[0] == 0
    env = clinic_env(source)
    try:
        async with env.uow() as uow:
            await seed_demo(uow)
            await uow.commit()
        async with running(env, source.data / "files") as harness:
            chat = harness.user(2004)
            await register(chat, 3)
            await chat.tap(NEW_REQUEST)
            await chat.press_msgid(MODALITY_NAMES["CR"])
            await chat.press(CR_CHEST)
            await chat.photo(PHOTO)
            await chat.press_msgid(req.INSURERS[Insurer.NONE])
            await chat.press(chat.buttons()[2])  # the third day: far enough ahead to cancel
            await chat.press(chat.buttons()[0])
            await chat.press_msgid(bk.CONFIRM)
            next_update = bot_of(harness).next_update_id
            status, out, _ = await radyar(source, "audit", "verify", "--seal")
            assert status == 0 and "the audit log is intact" in out
            archive = source.data.parent / "radyar-backup.tar"
            # While the bot runs, as a nightly job would.
            status, out, err = await radyar(source, "backup", "--out", str(archive))
            assert (status, err) == (0, "")
            assert "1 prescription file(s)" in out
        async with env.uow() as uow:
            [made] = await uow.session.scalars(select(Booking))
            code = made.code
            last = await uow.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert last is not None and last.action == "backup.made"
        assert "operator" in last.details  # who ran it, not what it holds
    finally:
        await env.engine.dispose()
    assert archive.stat().st_mode & 0o777 == 0o600
    await remove(source)
    if target.kind == "postgresql":  # as compose's migrate service leaves a new database
        assert (await radyar(target, "db", "upgrade"))[0] == 0

    status, out, err = await radyar(target, "restore", str(archive))
    assert (status, err) == (0, "")
    assert "1 prescription file(s)" in out and "nothing to upgrade" in out
    status, out, _ = await radyar(target, "audit", "verify")
    assert status == 0 and "the audit log is intact" in out and "sealed entries: 0" not in out

    env = clinic_env(target)
    try:
        async with env.uow() as uow:
            referral = await uow.session.scalar(select(Referral))
            last = await uow.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert referral is not None
        assert (target.data / "files" / str(referral.file_ref)).read_bytes() == PHOTO
        assert last is not None and last.action == "backup.restored"
        env.clock.set(START.replace(minute=30))
        async with running(env, target.data / "files") as harness:
            # Telegram's update ids go on from where they were (the bot remembers those it
            # handled, so a re-delivered one is not acted on twice).
            bot_of(harness).next_update_id = next_update
            chat = harness.user(2004)  # the same Telegram account, on the restored database
            await chat.tap(MY_APPOINTMENTS)
            [label] = chat.buttons()
            assert CR_CHEST in label
            await chat.press(label)
            assert to_persian_digits(code) in chat.last_text()
            await chat.press_msgid(appt.CANCEL)
            await chat.press_msgid(appt.YES_CANCEL)
        async with env.uow() as uow:
            [after] = await uow.session.scalars(select(Booking))
        assert (after.code, after.status) == (code, "cancelled")
    finally:
        await env.engine.dispose()
    status, out, _ = await radyar(target, "audit", "verify", "--seal")
    assert status == 0 and "the audit log is intact" in out


def damaged(archive: Path, into: Path) -> Path:
    """A copy of ``archive`` with one bit of the database member flipped."""
    with tarfile.open(archive) as tar:
        member = tar.getmember("database.sqlite3")
    data = bytearray(archive.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0x01
    into.write_bytes(bytes(data))
    return into


async def test_a_damaged_backup_is_refused_and_changes_nothing(
    tmp_path: Path, radyar: Terminal
) -> None:
    here = sqlite_place(tmp_path / "data")
    assert (await radyar(here, "db", "upgrade"))[0] == 0
    assert (await radyar(here, "seed", "--demo"))[0] == 0
    prescription = here.data / "files" / "referrals" / "2026" / "11" / "a.jpg"
    prescription.parent.mkdir(parents=True)
    prescription.write_bytes(PHOTO)
    good = tmp_path / "good.tar"
    assert (await radyar(here, "backup", "--out", str(good)))[0] == 0
    # Made after the backup: a restore would remove it, a refused one must not.
    assert (await radyar(here, "house", "add", "--name", "خانه بهداشت حصار"))[0] == 0
    before = (here.data / "radyar.db").read_bytes()

    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for bad, says in (
        (damaged(good, tmp_path / "flipped.tar"), "1 member(s) do not match their checksums"),
        (cut, "not a complete Radyar backup"),
    ):
        status, out, err = await radyar(here, "restore", str(bad), "--yes")
        assert (status, out) == (2, "")
        assert says in err and "Traceback" not in err
    assert (here.data / "radyar.db").read_bytes() == before
    assert prescription.read_bytes() == PHOTO
    assert [p.name for p in here.data.iterdir() if p.name.startswith(".")] == []  # no leftovers

    status, _, err = await radyar(here, "restore", str(good))
    assert status == 2 and "holds data" in err and "--yes" in err
    with sqlite3.connect(here.data / "radyar.db") as other:  # a bot still running
        other.execute("SELECT 1 FROM audit_log").fetchall()
        status, _, err = await radyar(here, "restore", str(good), "--yes")
    other.close()
    assert status == 2 and "stop radyar run and every radyar worker first" in err
    assert (here.data / "radyar.db").read_bytes() == before

    status, out, _ = await radyar(here, "restore", str(good), "--yes")
    assert status == 0
    db = sqlite3.connect(here.data / "radyar.db")
    try:
        houses = db.execute("SELECT count(*) FROM health_houses").fetchone()[0]
    finally:
        db.close()
    assert houses == 1  # the demo's; the one added after the backup is gone


async def test_an_older_backup_is_brought_up_to_date(tmp_path: Path, radyar: Terminal) -> None:
    old = sqlite_place(tmp_path / "a")
    new = sqlite_place(tmp_path / "b")
    assert (await radyar(old, "db", "upgrade", "0018"))[0] == 0
    archive = tmp_path / "old.tar"
    status, out, _ = await radyar(old, "backup", "--out", str(archive))
    assert status == 0 and "revision 0018" in out
    status, out, _ = await radyar(new, "restore", str(archive))
    assert status == 0 and f"upgraded from revision 0018 to {head_revision(new.url)}" in out
    status, out, _ = await radyar(new, "audit", "verify", "--seal")
    assert status == 0 and "the audit log is intact" in out


@pytest.mark.pg
async def test_a_pg_dump_older_than_the_server_is_refused_by_name(
    tmp_path: Path, radyar: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    await require_pg()
    name = f"radyar_backup_v_{os.getpid()}"
    here = Place("postgresql", await create_pg_database(name), tmp_path)
    try:
        assert (await radyar(here, "db", "upgrade"))[0] == 0
        old = tmp_path / "bin"
        old.mkdir()
        (old / "pg_dump").write_text('#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n')
        (old / "pg_dump").chmod(0o755)
        monkeypatch.setenv("PATH", f"{old}{os.pathsep}{os.environ['PATH']}")
        status, out, err = await radyar(here, "backup", "--out", str(tmp_path / "b.tar"))
        assert (status, out) == (2, "")
        assert "pg_dump is version 9 but the server is" in err and "postgresql-client" in err
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        status, _, err = await radyar(here, "backup", "--out", str(tmp_path / "b.tar"))
        assert status == 2 and "pg_dump is not installed" in err
        assert not (tmp_path / "b.tar").exists()
    finally:
        await drop_pg_database(name)
