"""The database side of ``radyar backup`` and ``restore``: SQLite's online backup API, PostgreSQL's
``pg_dump`` and ``pg_restore``, and what a database holds. Nothing here reads or prints a row."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from clinic.db import make_engine
from clinic.migrate import alembic_config

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# The rows a freshly migrated database already holds: rows anywhere else are data.
MIGRATION_ROWS = frozenset({"alembic_version", "setup_version"})
CLIENT_PACKAGE = "PostgreSQL's client programs (Debian: postgresql-client)"


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do. ``status`` is
    the command's exit status (2: refused, nothing changed; 1: a tool failed)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class DatabaseState:
    """What the configured database holds, in numbers only."""

    revision: str | None
    holds_data: bool
    tables: frozenset[str]
    other_sessions: int = 0


def kind_of(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    backend = make_url(url).get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise BackupError(f"backups are made of SQLite and PostgreSQL databases, not {backend}")
    return backend


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL (``sqlite+aiosqlite:///var/radyar.db``)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("RADYAR_DATABASE_URL names no SQLite file to back up or restore into")
    return Path(database)


def head_revision(url: str) -> str | None:
    """The newest migration this Radyar ships."""
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def knows_revision(url: str, revision: str) -> bool:
    """Whether ``revision`` is one of this Radyar's migrations (a newer one's backup is not)."""
    try:
        return ScriptDirectory.from_config(alembic_config(url)).get_revision(revision) is not None
    except CommandError:
        return False


# SQLite ----------------------------------------------------------------------------------


def sqlite_copy(source: Path, dest: Path) -> str | None:
    """Copy the database with SQLite's online backup API (a consistent snapshot while the bot
    writes: WAL readers do not block it) into ``dest``; the copy's revision."""
    if not source.is_file():
        raise BackupError(f"there is no database file at {source}: run radyar db upgrade first")
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(dest)) as dst,
    ):
        src.backup(dst)  # in one step: the snapshot of a single read transaction
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise BackupError("the database copy does not pass SQLite's check", status=1)
        return _sqlite_revision(dst)


def _sqlite_revision(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: never migrated
        return None
    return str(row[0]) if row else None


def sqlite_state(path: Path) -> DatabaseState:
    """The revision of the file at ``path``, and whether any table holds data."""
    if not path.exists():
        return DatabaseState(None, False, frozenset())
    try:
        return _sqlite_state(path)
    except sqlite3.DatabaseError:
        raise BackupError(
            f"{path} is not an SQLite database: move it away, or point RADYAR_DATABASE_URL "
            "at the database to restore into"
        ) from None


def _sqlite_state(path: Path) -> DatabaseState:
    with closing(sqlite3.connect(path, timeout=30)) as db:
        tables = frozenset(
            str(name)
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        )
        holds = any(
            db.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()
            for table in sorted(tables - MIGRATION_ROWS)
        )
        return DatabaseState(_sqlite_revision(db), holds, tables)


def sqlite_check(path: Path) -> str | None:
    """The revision of a restored copy; refuses one SQLite finds damaged."""
    with closing(sqlite3.connect(path)) as db:
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise BackupError("the database in the backup does not pass SQLite's check")
        return _sqlite_revision(db)


def sqlite_replace(target: Path, new: Path) -> None:
    """Put ``new`` in place of ``target`` in one rename. Refuses while another process has the
    database open: leaving WAL mode needs the only connection, and a running bot would go on
    writing to the file that was replaced."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        with closing(sqlite3.connect(target, timeout=2)) as db:
            try:
                (mode,) = db.execute("PRAGMA journal_mode=DELETE").fetchone()
            except sqlite3.OperationalError:
                mode = "locked"
        if mode != "delete":
            raise BackupError(
                "the database is in use: stop radyar run and every radyar worker first"
            )
    staged = target.with_name(f".{target.name}.restore-{secrets.token_hex(4)}")
    shutil.move(new, staged)  # beside the target, so the rename below is atomic
    try:
        _fsync(staged)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# PostgreSQL ------------------------------------------------------------------------------


def pg_environment(url: str) -> tuple[dict[str, str], str]:
    """The libpq environment for ``url`` (the password in PGPASSWORD, never on a command
    line) and the database's name."""
    parsed = make_url(url)
    env = dict(os.environ)
    query = {k: v if isinstance(v, str) else v[0] for k, v in parsed.query.items()}
    for key, value in (
        ("PGHOST", parsed.host or query.get("host")),
        ("PGPORT", str(parsed.port) if parsed.port else query.get("port")),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGSSLMODE", query.get("sslmode") or query.get("ssl")),
    ):
        if value:
            env[key] = str(value)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    if not parsed.database:
        raise BackupError("RADYAR_DATABASE_URL names no PostgreSQL database")
    return env, parsed.database


def pg_tool(name: str) -> tuple[str, int]:
    """The path of ``pg_dump`` or ``pg_restore`` and its major version."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install {CLIENT_PACKAGE}, of the server's major "
            "version or newer"
        )
    answer = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", answer.stdout)
    if answer.returncode != 0 or match is None:
        raise BackupError(f"{found} --version did not say which PostgreSQL it is", status=1)
    return found, int(match.group(1))


async def pg_state(url: str) -> tuple[DatabaseState, int]:
    """The database's revision, whether it holds data, its tables, the sessions of other
    clients, and the server's major version."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            major = int(await conn.scalar(text("SHOW server_version_num")) or 0) // 10000
            names = await conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            tables = frozenset(str(n) for n in names)
            holds = False
            for table in sorted(tables - MIGRATION_ROWS):
                if await conn.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")')):
                    holds = True
                    break
            revision = None
            if "alembic_version" in tables:
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            others = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            )
    finally:
        await engine.dispose()
    return DatabaseState(revision, holds, tables, int(others or 0)), major


def pg_dump(url: str, server_major: int, dest: Path) -> int:
    """``pg_dump --format=custom`` of the database into ``dest``; pg_dump's major version."""
    tool, major = pg_tool("pg_dump")
    if major < server_major:
        raise BackupError(
            f"pg_dump is version {major} but the server is {server_major}: install "
            f"{CLIENT_PACKAGE} {server_major} or newer"
        )
    env, database = pg_environment(url)
    _run([tool, "--format=custom", "--no-password", f"--file={dest}", database], env, "pg_dump")
    return major


def pg_dump_tables(dump: Path) -> frozenset[str]:
    """The tables a custom-format dump holds (``pg_restore --list``)."""
    tool, _ = pg_tool("pg_restore")
    listing = _run([tool, "--list", str(dump)], dict(os.environ), "pg_restore --list")
    return frozenset(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))


def pg_restore(url: str, dump: Path, dump_major: int | None) -> None:
    """Replace the database's objects with the dump's, in one transaction (a failure leaves
    the database as it was)."""
    tool, major = pg_tool("pg_restore")
    if dump_major is not None and major < dump_major:
        raise BackupError(
            f"the backup was made by pg_dump {dump_major} and pg_restore is {major}: install "
            f"{CLIENT_PACKAGE} {dump_major} or newer"
        )
    env, database = pg_environment(url)
    env["PGOPTIONS"] = "-c lock_timeout=30s"  # a client still connected: fail, do not hang
    _run(
        [tool, "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
         "--exit-on-error", "--no-password", f"--dbname={database}", str(dump)],
        env, "pg_restore",
    )  # fmt: skip


async def pg_drop_tables(url: str, tables: frozenset[str]) -> None:
    """Drop tables the restored dump does not have (a newer Radyar's), so that the database is
    exactly the backup's revision and ``radyar db upgrade`` can take it on."""
    if not tables:
        return
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            for table in sorted(tables):
                await conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        await engine.dispose()


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    """Run a PostgreSQL client program; its first error line (values masked) if it fails."""
    try:
        done = subprocess.run(  # no password in the arguments
            command, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise BackupError(f"{what} could not be started ({exc.strerror})", status=1) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {_first_error(done.stderr)}", status=1)
    return done.stdout


def _first_error(stderr: str) -> str:
    """The first line that says what went wrong, without the values a DETAIL line would quote
    (they may be patients' data)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    wanted = [line for line in lines if "error" in line.lower()] or lines or ["no message"]
    line = re.sub(r"\(.*?\)=\(.*?\)", "(…)=(…)", wanted[0])
    return line[:300]
