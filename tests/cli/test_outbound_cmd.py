"""``radyar outbound``: IT staff at the server's terminal see how the hospital's systems are
being told, which changes were refused and why, and send one again or set it aside."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.clock import FrozenClock
from clinic.db import make_engine, make_sessionmaker
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry, OutboundEvent, OutboxStatus
from clinic.policy import Policy
from clinic.uow import UnitOfWork
from radyar.cli import main
from tests.bulk import add_booked_patients

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=TEHRAN)


@pytest.fixture
def radyar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``radyar ARGS`` in-process on a fresh SQLite file with the demo seeded and the RIS on."""
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_LANG", "en")
    monkeypatch.setenv("RADYAR_RIS_MLLP_HOST", "127.0.0.1")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    assert run("db", "upgrade")[0] == 0
    assert run("seed", "--demo")[0] == 0
    return run


def _refused(db: Path) -> list[int]:
    """Two bookings whose confirmation the RIS refused, as the sender records it."""

    async def write() -> list[int]:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        try:
            uow = UnitOfWork(make_sessionmaker(engine), FrozenClock(NOW), Policy())
            async with uow:
                starts = datetime.combine(NOW.date() + timedelta(days=1), time(9), TEHRAN)
                booked = await add_booked_patients(uow, 2, first=1, starts_at=starts)
                ids = []
                for booking_id in booked.bookings:
                    row = OutboundEvent(
                        adapter="hl7_siu", kind="booked", booking_id=booking_id,
                        referral_id=booking_id, status=OutboxStatus.FAILED, attempts=1,
                        next_attempt_at=NOW, answer="AR 101 PID-3 unknown", created_at=NOW,
                    )  # fmt: skip
                    uow.session.add(row)
                    await uow.session.flush()
                    ids.append(row.id)
                await uow.commit()
                return ids
        finally:
            await engine.dispose()

    return asyncio.run(write())


def _states(db: Path) -> list[str]:
    async def read() -> list[str]:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with make_sessionmaker(engine)() as session:
                rows = await session.scalars(
                    select(OutboundEvent.status).order_by(OutboundEvent.id)
                )
                audited = await session.scalars(select(AuditEntry.action))
                return [str(s) for s in rows] + sorted(a for a in audited if "outbound" in a)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_status_failed_retry_and_skip(
    radyar: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    status, out, _ = radyar("outbound", "status")
    assert (status, out.splitlines()) == (
        0, ["adapters on: hl7_siu", "no booking changes recorded for the hospital's systems"]
    )  # fmt: skip
    db = tmp_path / "data" / "radyar.db"
    first, second = _refused(db)
    status, out, _ = radyar("outbound", "failed")
    assert status == 0 and len(out.splitlines()) == 2
    assert f"{first:>7}  hl7_siu  booked" in out and "AR 101 PID-3 unknown" in out
    assert "2026-12-02 09:00" in out
    assert radyar("outbound", "status")[1].splitlines()[1].split() == ["hl7_siu", "failed", "2"]
    assert radyar("outbound", "retry", str(first)) == (
        0,
        f"event {first} will be sent again\n",
        "",
    )
    assert radyar("outbound", "skip", str(second))[1] == f"event {second} is set aside\n"
    assert _states(db) == ["pending", "cancelled", "outbound.retry", "outbound.skip"]
    status, _, err = radyar("outbound", "retry", str(first))  # no longer refused
    assert status == 2 and "could not find" in err
