"""What the quick handler tests share: the whole bot, its Bot API offline
(``tests.handlers.offline``), over a department on real SQLite.

A module whose tests need another department overrides ``seed``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from clinic.demo import seed_demo
from tests.handlers.offline import offline_bot

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv
    from tests.handlers.offline import OfflineBot, Seed


@pytest.fixture
def seed() -> Seed:
    """What fills the department before the bot starts: the demo department."""
    return seed_demo


@pytest.fixture
async def bot(sqlite_env: ClinicEnv, tmp_path: Path, seed: Seed) -> AsyncIterator[OfflineBot]:
    """The bot started offline over ``sqlite_env``, once ``seed`` has filled the department
    (committed); its files under ``tmp_path``."""
    async with sqlite_env.uow() as uow:
        await seed(uow)
        await uow.commit()
    async with offline_bot(sqlite_env, tmp_path / "files") as started:
        yield started
