"""``radyar retention run``: remove what is past its time now, and say how much."""

from __future__ import annotations

from typing import TYPE_CHECKING

from radyar.app import build_app
from radyar.housekeeping import apply_retention
from radyar.people_cmd import out

if TYPE_CHECKING:
    import argparse

    from radyar.settings import Settings


async def retention_run(_args: argparse.Namespace, settings: Settings) -> int:
    """Apply the RADYAR_RETAIN_* rules once (``radyar run`` does it daily)."""
    async with build_app(settings) as app:
        report = await apply_retention(app)
    out(f"unfinished drafts and registrations: {report.drafts + report.conversations}")
    out(f"abandoned uploads: {report.uploads}")
    out(f"prescriptions of closed referrals: {report.prescriptions}")
    out(f"refused hospital messages: {report.refused}")
    out(f"texts of ended notices: {report.notices}")
    return 0
