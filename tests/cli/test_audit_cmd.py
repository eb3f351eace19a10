"""``radyar audit verify`` at the server's terminal: the seeded log seals and verifies; rows
edited behind the database's back (its triggers dropped first) are named, and the command
fails; the operator who ran a command is named in what it wrote."""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING

import pytest

from radyar.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.fixture
def radyar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    assert run("db", "upgrade")[0] == 0
    return run


def test_verify_finds_an_edited_entry(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    assert radyar("--as", "it-maryam", "seed", "--demo")[0] == 0
    assert (
        radyar("house", "add", "--name", "خانه بهداشت روستای حصار", "--county", "شیروان")[0] == 0
    )
    status, out, _ = radyar("audit", "verify", "--seal")
    assert status == 0 and "the audit log is intact" in out
    db = sqlite3.connect(tmp_path / "data" / "radyar.db")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE audit_log SET action = 'x'")
        (operator,) = db.execute(
            "SELECT json_extract(details, '$.operator') FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert operator  # the login name: house add ran without --as
        db.execute("DROP TRIGGER audit_log_no_update")  # someone with the file, not our rules
        db.execute("UPDATE audit_log SET action = 'x' WHERE id = 1")
        db.commit()
    finally:
        db.close()
    status, out, _ = radyar("audit", "verify")
    assert status == 1
    assert "changed after sealing: 1" in out and "TAMPERED" in out


def test_retention_run_says_what_it_removed(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    assert radyar("seed", "--demo")[0] == 0
    abandoned = tmp_path / "data" / "files" / "referrals" / "2026" / "09" / "left.jpg"
    abandoned.parent.mkdir(parents=True)
    abandoned.write_bytes(b"\xff\xd8 a photo nobody sent on with a request")
    os.utime(abandoned, (1_700_000_000, 1_700_000_000))  # written long ago
    status, out, _ = radyar("retention", "run")
    assert status == 0 and "abandoned uploads: 1" in out and not abandoned.exists()
    assert radyar("retention", "run")[1].count(": 0") == 5  # nothing more the second time
