"""The bot end to end: the demo department, a frozen clock, the sandbox and a running bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from clinic.demo import seed_demo
from tests.bot.harness import Harness, running

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv


@pytest.fixture
async def harness(sqlite_env: ClinicEnv, tmp_path: Path) -> AsyncIterator[Harness]:
    """The demo department on SQLite and the bot running against the sandbox."""
    async with sqlite_env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    async with running(sqlite_env, tmp_path / "files") as started:
        yield started
