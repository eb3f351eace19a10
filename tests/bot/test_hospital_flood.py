"""1000 idle connections held against the MLLP listener while, in the same process (as in
``radyar run``), a patient registers and books through the bot and the RIS's next report is
acknowledged AA."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.conversations import request as req
from clinic.actors import Actor
from clinic.daylist import check_in
from clinic.demo import seed_demo
from clinic.models import Booking, Insurer, OutboxMessage
from notifier.hl7 import make_handler
from notifier.mllp import MllpLimits, MllpServer, send_mllp, start_mllp_server
from tests.bot.flows import book_first_free, register, request_exam
from tests.bot.harness import running
from tests.bot.test_booking_flow import CT_BRAIN
from tests.flood import flood, open_fds
from tests.notifier.test_hl7 import message

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import ClinicEnv

FLOOD = 1000
ACCESSION = "RAD-7001"
# What the process may open beyond its baseline while the flood is held: the listener's own
# cap, and room for the database pool and the Bot API client growing during the booking.
ROOM = 40


async def met_by_the_server(server: MllpServer, count: int) -> None:
    """Until the listener has accepted (and admitted or refused) ``count`` connections."""
    for _ in range(6000):
        if server.stats.accepted >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the listener met {server.stats.accepted} of {count} connections")


async def test_a_flood_of_idle_connections_locks_out_neither_the_bot_nor_the_ris(
    env: ClinicEnv, tmp_path: Path
) -> None:
    async with env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    limits = MllpLimits()  # the defaults radyar run uses
    cap = limits.connections.max_connections
    server = await start_mllp_server(make_handler(env.uow), "127.0.0.1", 0, limits)
    try:
        async with running(env, tmp_path / "files") as harness:
            baseline = open_fds()
            async with flood(server.port, FLOOD) as held:
                assert (held.connected, held.failed) == (FLOOD, 0)
                await met_by_the_server(server, FLOOD)
                fds = [open_fds()]
                chat = harness.user(7001)
                await register(chat, 7)
                await request_exam(chat, "CT", CT_BRAIN)
                await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
                await book_first_free(chat)
                fds.append(open_fds())
                async with env.uow() as uow:
                    booking = await uow.session.scalar(select(Booking))
                    assert booking is not None and booking.status == "confirmed"
                    await check_in(uow, Actor.system(), booking.id, accession_number=ACCESSION)
                    await uow.commit()
                at_cap = server.stats.open
                report = message("oru_r01_final.hl7", accession=ACCESSION)
                ack = await send_mllp("127.0.0.1", server.port, report)  # no retry needed
                fds.append(open_fds())
                held_at_most = server.stats.open
                await held.release()
    finally:
        server.close()
        await server.wait_closed()
    assert b"MSA|AA|RIS00001001" in ack
    assert at_cap == cap and held_at_most <= cap  # full of idle sockets when the RIS came
    assert server.stats.accepted == FLOOD + 1
    assert server.stats.counts["evicted"] >= 1  # one made room for the RIS
    assert max(fds) <= baseline + cap + ROOM, (baseline, fds)
    async with env.uow() as uow:
        kinds = set(await uow.session.scalars(select(OutboxMessage.kind)))
    assert {"booking_confirmed", "report_ready"} <= kinds
