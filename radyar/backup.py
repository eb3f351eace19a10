"""``radyar backup`` and ``radyar restore``: the database and the prescription files in one
archive (radyar/backup_archive.py), made while the bot runs and put back into a fresh or
replaced database (radyar/backup_db.py). Neither prints or logs personal data; both are
audited."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from clinic import audit, migrate
from clinic.actors import Actor
from radyar import backup_archive as archive
from radyar import backup_db as db
from radyar.app import build_app, prepare_data_dir
from radyar.backup_db import BackupError
from radyar.settings import mask_url

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Coroutine
    from typing import Any

    from radyar.settings import Settings

SYSTEM = Actor.system()


def out(line: str) -> None:
    """One line of the command's result."""
    sys.stdout.write(line + "\n")


def _refusing(
    command: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]:
    """A BackupError becomes its message on standard error and its exit status."""

    async def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return await command(args, settings)
        except BackupError as exc:
            sys.stderr.write(f"radyar: {exc}\n")
            return exc.status

    run.__doc__ = command.__doc__
    return run


def files_root(settings: Settings) -> Path:
    """Where the prescriptions are kept (clinic.files.FileStore's root)."""
    return settings.data_dir / "files"


def _default_out(settings: Settings, now: datetime) -> Path:
    folder = settings.data_dir / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"radyar-{now:%Y%m%dT%H%M%SZ}.tar"


async def _record(settings: Settings, action: str, **details: object) -> None:
    async with build_app(settings) as app, app.uow() as uow:
        await audit.record(uow, SYSTEM, action, "backup", None, **details)
        await uow.commit()


@_refusing
async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar backup [--out FILE]``: one archive, safe while ``radyar run`` runs."""
    url = settings.database_url
    kind = db.kind_of(url)
    prepare_data_dir(settings)
    now = datetime.now(UTC)
    target = Path(args.out) if args.out else _default_out(settings, now)
    if target.exists():
        raise BackupError(f"{target} already exists: choose another --out")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Beside the archive rather than in /tmp, which may be small or in memory (a container's).
    with tempfile.TemporaryDirectory(prefix=".radyar-backup-", dir=target.parent) as work:
        dump = Path(work) / ("database.sqlite3" if kind == db.SQLITE else "database.pgdump")
        dump_major = None
        if kind == db.SQLITE:
            revision = await asyncio.to_thread(db.sqlite_copy, db.sqlite_path(url), dump)
        else:
            state, server_major = await db.pg_state(url)
            revision = state.revision
            if revision is not None:
                dump_major = await asyncio.to_thread(db.pg_dump, url, server_major, dump)
        if revision is None:
            raise BackupError("the database has no Radyar tables: run radyar db upgrade first")
        manifest = archive.Manifest(
            format=archive.FORMAT,
            radyar_version=_version(),
            alembic_revision=revision,
            database=kind,
            created_at=now.isoformat(timespec="seconds"),
            files=0,
            pg_dump_major=dump_major,
        )
        # The files after the database: a file the snapshot refers to is there, unless
        # retention removed it meanwhile (then it was due to go anyway).
        done = await asyncio.to_thread(
            archive.write, target, (dump.name, dump), files_root(settings), manifest
        )
    await _record(settings, "backup.made", **archive.describe(done))
    size = target.stat().st_size
    out(
        f"backup written to {target}: {kind} database at revision {revision}, "
        f"{done.files} prescription file(s), {_size(size)}"
    )
    return 0


@_refusing
async def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar restore FILE [--yes]``: into the configured database, once the archive checks."""
    url = settings.database_url
    kind = db.kind_of(url)
    prepare_data_dir(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.data_dir))
    try:
        manifest = await asyncio.to_thread(archive.unpack, Path(args.file), staging)
        _fits(manifest, kind, url)
        await _put_back(args, settings, manifest, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    head = db.head_revision(url)
    upgraded = ""
    if manifest.alembic_revision != head:
        try:
            await migrate.upgrade(url)
        except Exception as exc:  # restored all the same: say so, and what is left to do
            raise BackupError(
                f"the backup was restored at revision {manifest.alembic_revision}, but the "
                f"upgrade to {head} failed ({type(exc).__name__}): see the log, then run "
                "radyar db upgrade",
                status=1,
            ) from exc
        upgraded = f"; upgraded from revision {manifest.alembic_revision} to {head}"
    await _record(
        settings, "backup.restored", **archive.describe(manifest), made_at=manifest.created_at
    )
    out(
        f"restored the backup made {manifest.created_at} by radyar {manifest.radyar_version}: "
        f"{manifest.files} prescription file(s), database at {mask_url(url)}{upgraded}"
    )
    if not upgraded:
        out(f"the database is at revision {head}, the newest: nothing to upgrade")
    return 0


def _fits(manifest: archive.Manifest, kind: str, url: str) -> None:
    """Refuse a backup of the other kind of database, or of a newer Radyar."""
    if manifest.database != kind:
        raise BackupError(
            f"the backup is of a {manifest.database} database and RADYAR_DATABASE_URL is "
            f"{kind}: restore it into a {manifest.database} database"
        )
    if not db.knows_revision(url, manifest.alembic_revision):
        raise BackupError(
            f"the backup's database is at revision {manifest.alembic_revision}, which this "
            "Radyar does not know: restore it with the Radyar that made it, or a newer one"
        )


async def _put_back(
    args: argparse.Namespace, settings: Settings, manifest: archive.Manifest, staging: Path
) -> None:
    """Replace the database, then the files: refused when they hold data and --yes is not
    given, or while other clients use the database."""
    url = settings.database_url
    dump = staging / manifest.database_member
    if manifest.database == db.SQLITE:
        await asyncio.to_thread(db.sqlite_check, dump)
        state = await asyncio.to_thread(db.sqlite_state, db.sqlite_path(url))
    else:
        state, _ = await db.pg_state(url)
        if state.other_sessions:
            raise BackupError(
                f"{state.other_sessions} other client(s) are connected to the database: stop "
                "radyar run and every radyar worker first"
            )
    root = files_root(settings)
    present = len(archive.prescription_files(root))
    if (state.holds_data or present) and not args.yes:
        held = "holds data" if state.holds_data else "is empty"
        raise BackupError(
            f"the database {held} and the file store has {present} file(s): nothing was "
            "changed; add --yes to replace them with the backup"
        )
    if manifest.database == db.SQLITE:
        await asyncio.to_thread(db.sqlite_replace, db.sqlite_path(url), dump)
    else:
        await asyncio.to_thread(db.pg_restore, url, dump, manifest.pg_dump_major)
        extra = state.tables - await asyncio.to_thread(db.pg_dump_tables, dump)
        await db.pg_drop_tables(url, extra)
    await asyncio.to_thread(_swap_files, staging / archive.FILES, root)


def _swap_files(staged: Path, root: Path) -> None:
    """Put the backup's file store in place of the current one (both in the data folder)."""
    staged.mkdir(parents=True, exist_ok=True)
    old = root.with_name(f".{root.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    if root.exists():
        root.rename(old)
    staged.rename(root)
    shutil.rmtree(old, ignore_errors=True)


def _version() -> str:
    try:
        return metadata.version("radyar")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"
