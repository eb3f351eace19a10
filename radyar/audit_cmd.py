"""``radyar audit verify``: check the audit log's hash chain (clinic/audit_chain.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from clinic import audit_chain
from radyar.app import build_app
from radyar.housekeeping import seal_audit
from radyar.people_cmd import out

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings

SHOWN = 20


def _ids(ids: list[int]) -> str:
    more = f" … ({len(ids)} in all)" if len(ids) > SHOWN else ""
    return ", ".join(str(i) for i in ids[:SHOWN]) + more


async def audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar audit verify [--seal]``: 0 when the chain is intact, 1 when it is not."""
    async with build_app(settings) as app:
        if args.seal:
            # Asked for at the terminal: every entry written so far, however new.
            out(f"sealed {await seal_audit(app, timedelta(0))} entries")
        async with app.uow().reading() as uow:
            verdict = await audit_chain.verify(uow)
    out(f"sealed entries: {verdict.sealed}; not sealed yet: {verdict.unsealed}")
    for label, ids in (
        ("changed after sealing", verdict.changed),
        ("deleted after sealing", verdict.missing),
        ("chain broken (a seal removed or replaced) at", verdict.broken),
        ("added behind the seal", verdict.slipped_in),
    ):
        if ids:
            out(f"{label}: {_ids(ids)}")
    out("the audit log is intact" if verdict.intact else "THE AUDIT LOG HAS BEEN TAMPERED WITH")
    return 0 if verdict.intact else 1
