"""The admin sees the department's setup in the bot (``bot.staff.setup_view``), read only: every
device with its room, and for one device its floor, slots and places, the places kept back and
its weekly hours grouped by day of the Iranian week (Persian names and digits); a retired
device is marked; reception does not see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from bot.staff import menu, setup_view
from clinic.demo import seed_demo
from clinic.models import Device, KeptPlaces
from tests.handlers.offline import shown
from tests.handlers.staff_chat import buttons, member, tap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv
    from tests.handlers.offline import OfflineBot, Seed

ADMIN, CLERK = 8801, 8802


async def _demo_retired_and_kept(uow: UnitOfWork) -> None:
    """The demo department, its mammography retired and a walk-in place kept on each X-ray
    slot."""
    await seed_demo(uow)
    await uow.session.execute(update(Device).where(Device.code == "MG-1").values(active=False))
    xr = await uow.session.scalar(select(Device.id).where(Device.code == "XR-1"))
    assert xr is not None
    uow.session.add(KeptPlaces(device_id=xr, keep="walk_in", per="slot", places=1))


@pytest.fixture
def seed() -> Seed:
    return _demo_retired_and_kept


@pytest.fixture(autouse=True)
def _calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def uow_device(env: ClinicEnv, device_code: str) -> int:
    async with env.uow() as uow:
        found = await uow.session.scalar(select(Device.id).where(Device.code == device_code))
    assert found is not None
    return int(found)


async def test_the_admin_sees_every_device_and_one_in_detail(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    await member(sqlite_env, ADMIN, "admin")
    admin = bot.chat(ADMIN)
    calls = await tap(admin, await admin.say("/staff"), menu.ITEMS[13][1])
    listing = shown(calls)[-1]
    assert listing.startswith(admin._(setup_view.DEVICES))
    async with sqlite_env.uow() as uow:
        codes = list(await uow.session.scalars(select(Device.code)))
        xr = await uow.session.scalar(select(Device.id).where(Device.code == "XR-1"))
    assert all(c in listing for c in codes) and "طبقه همکف، اتاق ۱۰۱" in listing
    [mammography] = [line for line in listing.split("\n") if line.startswith("MG-1")]
    assert mammography.endswith(admin._(setup_view.RETIRED))
    assert not [line for line in listing.split("\n") if "XR-1" in line and "(" in line]

    calls = await admin.press(f"ssetd:{xr}")
    text = shown(calls)[-1]
    assert text.startswith("XR-1 · رادیوگرافی اتاق ۱")
    for expected in ("۱۰", "۲", "طبقه همکف، اتاق ۱۰۱"):
        assert expected in text
    kept = admin._(setup_view.KEPT_SLOT).format(
        places="۱", whom=admin._(setup_view.KEEP_NAMES["walk_in"])
    )
    assert kept in text
    saturday, wednesday = admin._("Saturday"), admin._("Wednesday")
    span = admin._(setup_view.DAYS).format(first=saturday, last=wednesday)
    assert f"• {span}: ۰۷:۳۰–۱۳:۳۰" in text
    assert f"• {admin._('Thursday')}: ۰۷:۳۰–۱۲:۳۰" in text
    assert f"• {admin._('Friday')}: {admin._(setup_view.CLOSED)}" in text
    assert list(buttons(calls).values()) == ["sset", "smenu"]  # nothing to edit here
    ct = await uow_device(sqlite_env, "CT-1")
    nothing = admin._(setup_view.NOTHING_KEPT)
    assert f"{nothing}\n" in shown(await admin.press(f"ssetd:{ct}"))[-1]


async def test_the_week_groups_days_with_the_same_hours(
    bot: OfflineBot, sqlite_env: ClinicEnv
) -> None:
    await member(sqlite_env, ADMIN, "admin")
    admin = bot.chat(ADMIN)
    async with sqlite_env.uow() as uow:
        ct = await uow.session.scalar(select(Device.id).where(Device.code == "CT-1"))
    text = shown(await admin.press(f"ssetd:{ct}"))[-1]
    hours = text.split("\n\n")[-1].split("\n")[1:]  # after "Weekly hours:"
    assert len(hours) == 3  # Saturday to Wednesday, Thursday, Friday
    assert "۰۷:۳۰–۱۳:۳۰، ۱۵:۰۰–۲۱:۰۰" in hours[0]


async def test_reception_does_not_see_the_setup(bot: OfflineBot, sqlite_env: ClinicEnv) -> None:
    await member(sqlite_env, CLERK, "reception")
    clerk = bot.chat(CLERK)
    assert clerk._(menu.ITEMS[13][1]) not in buttons(await clerk.say("/staff"))
    assert shown(await clerk.press("sset")) == []  # as if never offered
