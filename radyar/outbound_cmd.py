"""``radyar outbound``: the booking changes for the hospital's systems, for IT staff: how many
are in each state, which were refused and why, and sending one again or setting it aside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic import outbound
from clinic.jalali import to_tehran
from radyar.app import build_app
from radyar.people_cmd import OPERATOR, out

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings


async def outbound_status(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar outbound status``: events by adapter and state, and which adapters are on."""
    async with build_app(settings) as app, app.uow().reading() as uow:
        counts = await outbound.counts(uow)
    out(f"adapters on: {', '.join(settings.policy.outbound) or 'none'}")
    if not counts:
        out("no booking changes recorded for the hospital's systems")
    for adapter, state, n in counts:
        out(f"{adapter:<8} {state:<10} {n:>7}")
    return 0


async def outbound_failed(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar outbound failed``: refused events, oldest first (booking codes, no names)."""
    async with build_app(settings) as app, app.uow().reading() as uow:
        rows = await outbound.failed(uow, OPERATOR, limit=args.limit)
    if not rows:
        out("nothing refused: every booking change reached the hospital's systems")
    for e in rows:
        starts = to_tehran(e.starts_at).strftime("%Y-%m-%d %H:%M")
        out(f"{e.id:>7}  {e.adapter:<8} {e.kind:<10} {e.booking_code}  {starts}  {e.answer}")
    return 0


async def outbound_retry(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar outbound retry ID``: send a refused event again (audited)."""
    async with build_app(settings) as app, app.uow() as uow:
        await outbound.retry(uow, OPERATOR, args.id)
        await uow.commit()
    out(f"event {args.id} will be sent again")
    return 0


async def outbound_skip(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar outbound skip ID``: set a refused event aside (audited); the appointment's
    later changes go on."""
    async with build_app(settings) as app, app.uow() as uow:
        await outbound.skip(uow, OPERATOR, args.id)
        await uow.commit()
    out(f"event {args.id} is set aside")
    return 0
