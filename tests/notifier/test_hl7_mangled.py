"""Whatever arrives on the MLLP socket, the sender gets an ACK and nothing escapes."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.models import OutboxMessage
from notifier.hl7 import handle_message
from tests.notifier.test_hl7 import message

if TYPE_CHECKING:
    import pytest

    from tests.conftest import ClinicEnv

FIXTURES = sorted(p.name for p in (Path(__file__).parents[1] / "fixtures" / "hl7").glob("*.hl7"))
NOISE = [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"\x00", b"\xff", "ی".encode(), b"MSH|"]


def mangled(rng: random.Random, raw: bytes) -> bytes:
    """One random damage: cut, flip bytes, insert separators, repeat or drop a segment."""
    choice = rng.randrange(5)
    if choice == 0:
        return raw[: rng.randrange(len(raw) + 1)]
    data = bytearray(raw)
    if choice == 1:
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if choice == 2:
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.choice(NOISE)
        return bytes(data)
    segments = raw.split(b"\r")
    if choice == 3:
        segments.insert(rng.randrange(len(segments) + 1), rng.choice(segments))
    else:
        segments.pop(rng.randrange(len(segments)))
    return b"\r".join(segments)


async def test_every_mangled_message_gets_an_ack(
    sqlite_env: ClinicEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(20261126)
    codes = set()
    for n in range(400):
        raw = mangled(rng, message(rng.choice(FIXTURES), accession=f"FZ-{n}"))
        ack = await handle_message(sqlite_env.uow, raw)
        segments = ack.decode("utf-8").split("\r")
        assert segments[0].startswith("MSH|^~\\&|")
        msa = next(s for s in segments if s.startswith("MSA|"))
        codes.add(msa.split("|")[1])
    assert codes <= {"AA", "AE", "AR"}
    assert {"AE", "AR"} <= codes  # the damage was seen, not waved through
    async with sqlite_env.uow() as uow:
        sent = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert sent == 0  # nobody is booked here: no damaged message notified anyone
    # No message took the "unexpected failure" path (AE "try again later", logged as failed):
    # each was answered for what it is.
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [m for m in failures if "failed" in m or "not kept" in m] == []
