"""``radyar staff``, ``house``, ``health-worker`` and ``link-code``: people and their codes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from clinic import link_codes, rosters, staff
from clinic.actors import Actor
from clinic.identity import mask_mobile
from radyar.app import App, build_app

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings

OPERATOR = Actor.system()  # the person at the server's terminal; audited as "system"
NO_CODE = (
    "no link code: there is no mobile on record, and a code works only from an account with "
    "that number; add it with: radyar staff mobile {id} 09…, then: radyar link-code --staff {id}"
)


def out(line: str = "") -> None:
    """Write one line to standard output (the command's result, not a log)."""
    sys.stdout.write(line + "\n")


def _code_lines(app: App, code: str, mobile: str) -> None:
    hours = int(app.settings.policy.link.code_lifetime.total_seconds() // 3600)
    out(f"one-time link code (valid {hours} hours, once): send /link {code} to the bot")
    out(f"then share the account's own number there; it must be {mask_mobile(mobile)}")


async def staff_add(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar staff add``: with --mobile, prints a link code (a code needs the mobile)."""
    async with build_app(settings) as app, app.uow() as uow:
        member = await staff.add_staff(
            uow,
            OPERATOR,
            full_name=args.name,
            roles=args.roles.split(","),
            mobile=args.mobile,
            telegram_user_id=args.telegram_id,
            bale_user_id=args.bale_id,
            sites=args.sites.split(","),
        )
        code = None
        if member.mobile:
            code = await link_codes.issue_link_code(uow, OPERATOR, "staff", member.id)
        await uow.commit()
        out(f"staff member {member.id} added with roles {args.roles}")
        if code is not None and member.mobile:
            _code_lines(app, code, member.mobile)
        elif args.telegram_id is None and args.bale_id is None:
            out(NO_CODE.format(id=member.id))
    return 0


async def staff_sites(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar staff sites ID [SITE …]``: hold the member's roles to these sites."""
    async with build_app(settings) as app, app.uow() as uow:
        member = await staff.set_staff_sites(uow, OPERATOR, args.id, args.sites, args.role)
        await uow.commit()
    where = ", ".join(args.sites) or "every site (university-wide)"
    role = f" as {args.role}" if args.role else ""
    out(f"staff member {member.id} now works{role} at {where}")
    return 0


async def staff_mobile(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar staff mobile ID MOBILE``: the number a link code for them must come from."""
    async with build_app(settings) as app, app.uow() as uow:
        member = await staff.set_staff_mobile(uow, OPERATOR, args.id, args.mobile)
        await uow.commit()
    out(f"staff member {member.id}: mobile on record is now {mask_mobile(member.mobile or '')}")
    return 0


async def house_add(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar house add``: a rural health house."""
    async with build_app(settings) as app, app.uow() as uow:
        house = await staff.add_health_house(
            uow, OPERATOR, name=args.name, village=args.village, county=args.county
        )
        await uow.commit()
    out(f"health house {house.id} added")
    return 0


async def health_worker_add(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar health-worker add``: prints the worker's one-time link code."""
    async with build_app(settings) as app, app.uow() as uow:
        worker = await staff.add_health_worker(
            uow, OPERATOR, house_id=args.house, full_name=args.name, mobile=args.mobile
        )
        code = await link_codes.issue_link_code(uow, OPERATOR, "health_worker", worker.id)
        await uow.commit()
        out(f"health worker {worker.id} added")
        _code_lines(app, code, worker.mobile)
    return 0


async def link_code(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar link-code``: a new one-time code for a staff member or health worker; their
    earlier codes stop working."""
    kind, target = ("staff", args.staff) if args.staff else ("health_worker", args.health_worker)
    async with build_app(settings) as app, app.uow() as uow:
        code = await link_codes.issue_link_code(uow, OPERATOR, kind, target)
        await uow.commit()
        mobile = await link_codes.mobile_on_record(uow, kind, target)
        _code_lines(app, code, mobile)
    return 0


async def staff_list(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar staff list``: id, name, roles, masked mobile, linked messengers."""
    async with build_app(settings) as app, app.uow() as uow:
        rows = await rosters.staff_rows(uow)
    for row in rows:
        linked = ",".join(row.linked) or "not linked"
        state = "" if row.active else "  (inactive)"
        roles = ",".join(row.roles)
        where = ",".join(row.sites) or "all sites"
        out(
            f"{row.id:>4}  {row.full_name}  [{roles}]  {where}  {row.mobile or '-'}  "
            f"{linked}{state}"
        )
    return 0


async def health_worker_list(_args: argparse.Namespace, settings: Settings) -> int:
    """``radyar health-worker list``: id, name, health house, masked mobile, linked messengers."""
    async with build_app(settings) as app, app.uow() as uow:
        rows = await rosters.health_worker_rows(uow)
    for row in rows:
        linked = ",".join(row.linked) or "not linked"
        state = "" if row.active else "  (inactive)"
        place = ", ".join(p for p in (row.house, row.village, row.county) if p)
        out(f"{row.id:>4}  {row.full_name}  {place}  {row.mobile}  {linked}{state}")
    return 0
