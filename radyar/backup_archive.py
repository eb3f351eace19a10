"""The backup archive: one tar file (mode 0600) holding the database, the prescription files
under ``files/`` and, last, ``manifest.json`` with the SHA-256 of every other member. Reading one
unpacks it into a staging folder and checks it whole before anything is restored: a damaged,
truncated or edited archive is refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from radyar.backup_db import BackupError

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_MEMBERS = frozenset({"database.sqlite3", "database.pgdump"})
CHUNK = 1 << 20
MANIFEST_LIMIT = 64 << 20  # a manifest listing every file of years is a few MB
UNREADABLE = "the backup's manifest is unreadable: the archive is damaged"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: no personal data, only counts, versions and checksums."""

    format: int
    radyar_version: str
    alembic_revision: str
    database: str
    created_at: str
    files: int
    members: dict[str, str] = field(default_factory=dict)  # name -> sha256
    pg_dump_major: int | None = None

    @property
    def database_member(self) -> str:
        """The archive's database member."""
        return "database.sqlite3" if self.database == "sqlite" else "database.pgdump"

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        """The manifest of ``raw``; BackupError when it is not one this Radyar reads."""
        try:
            data = json.loads(raw)
            manifest = cls(**data)
        except (ValueError, TypeError):
            raise BackupError(
                "the backup's manifest is unreadable: the archive is damaged"
            ) from None
        if not isinstance(manifest.format, int) or manifest.format > FORMAT:
            raise BackupError(
                f"the backup is of format {manifest.format}; this Radyar reads format {FORMAT} "
                "(restore it with the Radyar that made it, or a newer one)"
            )
        if manifest.database not in ("sqlite", "postgresql") or not isinstance(
            manifest.members, dict
        ):
            raise BackupError(UNREADABLE)
        return manifest


def prescription_files(root: Path) -> list[Path]:
    """The files of the file store, in a fixed order (symbolic links are not followed)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def write(out: Path, database: tuple[str, Path], files_root: Path, manifest: Manifest) -> Manifest:
    """Write the archive to ``out`` (created 0600, never over an existing file; complete or not
    there at all) and return the manifest it holds."""
    partial = out.with_name(f".{out.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    members: dict[str, str] = {}
    count = 0
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                name, path = database
                with path.open("rb") as f:
                    members[name] = _sha256(f)
                    f.seek(0)
                    tar.addfile(_info(name, path.stat().st_size, time.time()), f)
                for path in prescription_files(files_root):
                    try:  # read once: what is hashed is what is stored
                        data = path.read_bytes()
                        mtime = path.stat().st_mtime
                    except FileNotFoundError:  # removed by retention meanwhile
                        continue
                    name = f"{FILES}/{path.relative_to(files_root).as_posix()}"
                    members[name] = hashlib.sha256(data).hexdigest()
                    tar.addfile(_info(name, len(data), mtime), io.BytesIO(data))
                    count += 1
                done = Manifest(**{**asdict(manifest), "files": count, "members": members})
                body = json.dumps(asdict(done), indent=2, sort_keys=True).encode()
                tar.addfile(_info(MANIFEST, len(body), time.time()), io.BytesIO(body))
            raw.flush()
            os.fsync(raw.fileno())
        if out.exists():
            raise BackupError(f"{out} already exists: choose another --out")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return done


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o600
    return info


def _sha256(f: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def unpack(archive: Path, staging: Path) -> Manifest:
    """Unpack ``archive`` into ``staging`` and check every member against the manifest;
    BackupError (with nothing outside ``staging`` touched) when anything does not match."""
    damaged = f"{archive} is not a complete Radyar backup (damaged or cut short)"
    try:
        with tarfile.open(archive, "r:*") as tar:
            raw, found = _members(tar, staging)
    except BackupError:
        raise
    except FileNotFoundError:
        raise BackupError(f"there is no file {archive}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        raise BackupError(damaged) from None
    if raw is None:
        raise BackupError(f"{damaged}: it has no manifest")
    manifest = Manifest.parse(raw)
    if found != manifest.members:
        wrong = sorted(
            n
            for n in found.keys() | manifest.members.keys()
            if found.get(n) != manifest.members.get(n)
        )
        raise BackupError(f"{damaged}: {len(wrong)} member(s) do not match their checksums")
    if manifest.database_member not in found:
        raise BackupError(f"{damaged}: it holds no database")
    return manifest


def _members(tar: tarfile.TarFile, staging: Path) -> tuple[bytes | None, dict[str, str]]:
    raw: bytes | None = None
    found: dict[str, str] = {}
    for member in tar:
        name = _checked_name(member)
        source = tar.extractfile(member)
        assert source is not None  # a regular file (checked)
        if name == MANIFEST:
            raw = source.read(MANIFEST_LIMIT)
            continue
        target = staging.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with target.open("wb") as out:
            for chunk in _chunks(source):
                digest.update(chunk)
                out.write(chunk)
        target.chmod(0o600)
        os.utime(target, (member.mtime, member.mtime))  # retention reads a file's age
        found[name] = digest.hexdigest()
    return raw, found


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    yield from iter(lambda: source.read(CHUNK), b"")


def _checked_name(member: tarfile.TarInfo) -> str:
    """The member's name when it is one a backup has: a regular file, the database, the
    manifest or under ``files/``, with no way out of the staging folder."""
    path = PurePosixPath(member.name)
    safe = (
        member.isfile()
        and not path.is_absolute()
        and ".." not in path.parts
        and (
            member.name in DATABASE_MEMBERS | {MANIFEST}
            or (path.parts[0] == FILES and len(path.parts) > 1)
        )
    )
    if not safe:
        raise BackupError("the archive holds something a Radyar backup never does: refused")
    return path.as_posix()


def describe(manifest: Manifest) -> dict[str, Any]:
    """The manifest's summary for the audit log (no checksums, no names)."""
    return {
        "database": manifest.database,
        "revision": manifest.alembic_revision,
        "files": manifest.files,
        "format": manifest.format,
    }
