"""Corrections of one report tell the patient at most RADYAR_REPORT_CORRECTIONS_PER_DAY times a
Tehran day (default 2), over the real MLLP listener; the rest are recorded, not told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.correction_cap import CORRECTIONS_CAPPED
from clinic.jalali import TEHRAN
from clinic.models import AuditEntry, OutboxMessage, Report, ReportStatus
from notifier.hl7 import handle_message, make_handler
from notifier.mllp import start_mllp_server
from radyar.settings import Settings
from radyar.settings.parse import SettingsError
from tests.notifier.test_hl7 import clinic, message, read_ack, send

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def correction(n: int, day: date = MONDAY) -> bytes:
    """ORU^R01 with OBR-25 = C for RAD-1001, its own OBR-22 time (``day`` 16:00 + n minutes)
    and control id: each one a new correction, as 25 sent by anyone would be."""
    raw = message("oru_r01_corrected.hl7")
    when = datetime.combine(day, time(16), tzinfo=TEHRAN) + timedelta(minutes=n)
    return raw.replace(f"||{MONDAY:%Y%m%d}1610||".encode(), f"||{when:%Y%m%d%H%M}||".encode())


async def told(env: ClinicEnv) -> list[tuple[int, str]]:
    """The correction notices queued: (patient, Tehran day queued)."""
    async with env.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "report_corrected")
            .order_by(OutboxMessage.id)
        )
        return [(r.recipient_id, f"{r.created_at.astimezone(TEHRAN):%a}") for r in rows]


async def report(env: ClinicEnv) -> Report:
    async with env.uow() as uow:
        found = await uow.session.scalar(select(Report))
        assert found is not None
        return found


async def capped(env: ClinicEnv) -> list[str]:
    """The Tehran days on which the cap was audited for the report."""
    async with env.uow() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == CORRECTIONS_CAPPED)
        )
        return [f"{r.at.astimezone(TEHRAN):%a}" for r in rows]


async def test_25_corrections_over_mllp_tell_the_patient_twice_and_the_next_day_again(
    env: ClinicEnv,
) -> None:
    (booking,) = await clinic(env, "RAD-1001")
    patient = booking.patient_id
    # Monday 23:00 Tehran (19:30 UTC) and Tuesday 00:30 Tehran (21:00 UTC): one UTC day,
    # two Tehran days.
    env.clock.set(datetime.combine(MONDAY, time(23), tzinfo=TEHRAN))
    server = await start_mllp_server(make_handler(env.uow), "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        acks = [await send(port, correction(n)) for n in range(25)]
        assert {a.code for a in acks} == {"AA"}  # each is taken: the RIS must not resend
        assert await told(env) == [(patient, "Mon"), (patient, "Mon")]
        latest = await report(env)
        # Every correction is recorded all the same: the report says the last one.
        assert latest.status == ReportStatus.CORRECTED
        assert latest.corrected_at == datetime.combine(MONDAY, time(16, 24), tzinfo=TEHRAN)
        assert await capped(env) == ["Mon"]  # audited once, not 23 times

        env.clock.set(datetime.combine(TUESDAY, time(0, 30), tzinfo=TEHRAN))
        assert env.clock.now().date() == datetime(2026, 11, 30, tzinfo=UTC).date()
        assert (await send(port, correction(0, TUESDAY))).code == "AA"
        assert await told(env) == [(patient, "Mon")] * 2 + [(patient, "Tue")]
        for n in range(1, 6):
            assert (await send(port, correction(n, TUESDAY))).code == "AA"
    finally:
        server.close()
        await server.wait_closed()
    assert await told(env) == [(patient, "Mon")] * 2 + [(patient, "Tue")] * 2
    assert await capped(env) == ["Mon", "Tue"]


async def test_a_repeated_correction_is_still_a_duplicate_and_costs_nothing(
    env: ClinicEnv,
) -> None:
    await clinic(env, "RAD-1001")
    for _ in range(3):
        ack = read_ack(await handle_message(env.uow, correction(0)))
        assert ack.code == "AA"
    assert len(await told(env)) == 1
    assert (read_ack(await handle_message(env.uow, correction(1)))).code == "AA"
    assert (read_ack(await handle_message(env.uow, correction(2)))).code == "AA"
    assert len(await told(env)) == 2
    assert await capped(env) == ["Mon"]


async def test_the_number_is_the_departments_and_0_tells_of_no_correction(
    env: ClinicEnv,
) -> None:
    await clinic(env, "RAD-1001")
    quiet = replace(env.policy, report_corrections_per_day=0)
    ack = read_ack(await handle_message(lambda: env.uow(quiet), correction(0)))
    assert ack.code == "AA"
    assert await told(env) == []
    assert (await report(env)).status == ReportStatus.CORRECTED
    more = replace(env.policy, report_corrections_per_day=4)
    for n in range(1, 7):
        await handle_message(lambda: env.uow(more), correction(n))
    assert len(await told(env)) == 4


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).policy.report_corrections_per_day == 2
    env = {"RADYAR_REPORT_CORRECTIONS_PER_DAY": "5"}
    assert Settings.from_env(env).policy.report_corrections_per_day == 5
    for bad in ("-1", "many", "51"):
        with pytest.raises(SettingsError, match="RADYAR_REPORT_CORRECTIONS_PER_DAY"):
            Settings.from_env({"RADYAR_REPORT_CORRECTIONS_PER_DAY": bad})
