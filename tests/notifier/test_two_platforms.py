"""Telegram and Bale in one deployment (issue 14, part 1): the worker ``radyar run`` builds
from settings has a chat channel per platform with a token, each on its own Bot API, and
delivers a patient's notice on the platform they are linked on (the one used last when both);
with Telegram down, a patient also linked on Bale gets it there at once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.jalali import TEHRAN
from clinic.models import ChatUserData, OutboxMessage, Platform
from clinic.patients import link_chat_account
from radyar.app import App
from radyar.outbox_run import worker_for
from radyar.settings import Settings
from sandbox.botapi import BotApiSandbox, RateLimits
from tests.factories import add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from pathlib import Path

    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

TELEGRAM_TOKEN, BALE_TOKEN = "111111:TELEGRAM-TWO", "222222:BALE-TWO"
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=TEHRAN)


def _settings(tmp_path: Path, telegram: BotApiSandbox, bale: BotApiSandbox) -> Settings:
    return Settings.from_env(
        {
            "RADYAR_DATA_DIR": str(tmp_path),
            "RADYAR_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "RADYAR_BALE_TOKEN": BALE_TOKEN,
            "RADYAR_TELEGRAM_API_URL": telegram.base_url,
            "RADYAR_BALE_API_URL": bale.base_url,
            "RADYAR_SMS_PROVIDER": "log",
        }
    )


async def _booked(uow: UnitOfWork, n: int, links: list[tuple[Platform, int]]) -> int:
    dept = await build_department(uow) if n == 1 else None
    patient = await add_patient(uow, n)
    for platform, user in links:
        await link_chat_account(uow, patient, platform, user, user)
    if dept is None:
        from tests.notifier.test_outbound_sender import _exam

        exam, device = await _exam(uow), 1
    else:
        exam, device = dept.ct_brain, dept.ct.id
    referral = await approved_referral(uow, patient, exam)
    me = Actor.patient(patient)
    start = MONDAY.replace(hour=8 + n)
    await confirm_booking(uow, me, (await hold_slot(uow, me, referral, device, start)).id)
    return patient


def _got(sandbox: BotApiSandbox, user: int) -> int:
    return len([m for m in sandbox.messages_to(user, token=None) if m.from_bot])


async def test_each_patient_hears_on_their_own_platform(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    env = sqlite_env
    async with (
        BotApiSandbox([TELEGRAM_TOKEN], limits=RateLimits.disabled()) as telegram,
        BotApiSandbox([BALE_TOKEN], platform="bale", limits=RateLimits.disabled()) as bale,
    ):
        for sandbox, user in ((telegram, 801), (bale, 802), (telegram, 803), (bale, 803)):
            sandbox.create_user(user, "بیمار")
        async with env.uow() as uow:
            await _booked(uow, 1, [(Platform.TELEGRAM, 801)])
            await _booked(uow, 2, [(Platform.BALE, 802)])
            await _booked(uow, 3, [(Platform.TELEGRAM, 803), (Platform.BALE, 803)])
            # Patient 3 last used the bot on Bale.
            await uow.session.execute(
                insert(ChatUserData),
                [
                    {"platform": Platform.TELEGRAM, "user_id": 803, "data": {},
                     "updated_at": MONDAY.replace(day=27)},
                    {"platform": Platform.BALE, "user_id": 803, "data": {},
                     "updated_at": MONDAY.replace(day=28)},
                ],
            )  # fmt: skip
            await uow.commit()
        settings = _settings(tmp_path, telegram, bale)
        assert settings.bot.platforms() == ("telegram", "bale")
        app = App(settings, env.engine, env.sessionmaker, env.clock)
        async with worker_for(settings, app) as worker:
            assert set(worker.channels.chat) == {Platform.TELEGRAM, Platform.BALE}
            await worker.run_once()
        assert (_got(telegram, 801), _got(bale, 802)) == (1, 1)
        assert (_got(telegram, 803), _got(bale, 803)) == (0, 1)
        async with env.uow() as uow:
            channels = list(
                await uow.session.scalars(
                    select(OutboxMessage.channel)
                    .where(OutboxMessage.kind == "booking_confirmed")
                    .order_by(OutboxMessage.id)
                )
            )
        assert channels == ["telegram", "bale", "bale"]


async def test_with_telegram_down_a_patient_also_on_bale_hears_there_at_once(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    env = sqlite_env
    async with (
        BotApiSandbox([TELEGRAM_TOKEN], limits=RateLimits.disabled()) as telegram,
        BotApiSandbox([BALE_TOKEN], platform="bale", limits=RateLimits.disabled()) as bale,
    ):
        telegram.create_user(811, "بیمار")
        bale.create_user(811, "بیمار")
        async with env.uow() as uow:
            await _booked(uow, 1, [(Platform.TELEGRAM, 811), (Platform.BALE, 811)])
            await uow.commit()
        telegram.outage = 502
        settings = _settings(tmp_path, telegram, bale)
        app = App(settings, env.engine, env.sessionmaker, env.clock)
        async with worker_for(settings, app) as worker:
            await worker.run_once()
        assert (_got(telegram, 811), _got(bale, 811)) == (0, 1)


def test_each_platform_has_its_own_addresses_and_the_proxy_is_telegrams() -> None:
    settings = Settings.from_env(
        {
            "RADYAR_PLATFORM": "bale",
            "RADYAR_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "RADYAR_BALE_TOKEN": BALE_TOKEN,
            "RADYAR_BOT_API_URL": "http://127.0.0.1:9001/bot",  # the primary's: Bale's
            "RADYAR_TELEGRAM_API_URL": "http://127.0.0.1:9002/bot",
            "RADYAR_WEBHOOK_URL": "https://bot.hospital.ir",
            "RADYAR_LISTEN_PORT": "8443",
            "RADYAR_TELEGRAM_WEBHOOK_URL": "https://tg.hospital.ir",
        }
    )
    assert settings.bot.platforms() == ("bale", "telegram")
    bale, telegram = settings.bot.for_platform("bale"), settings.bot.for_platform("telegram")
    assert (bale.api_url, bale.webhook_url, bale.listen_port) == (
        "http://127.0.0.1:9001/bot", "https://bot.hospital.ir", 8443,
    )  # fmt: skip
    assert (telegram.api_url, telegram.webhook_url, telegram.listen_port) == (
        "http://127.0.0.1:9002/bot", "https://tg.hospital.ir", 8444,
    )  # fmt: skip
    assert (bale.token().reveal(), telegram.token().reveal()) == (BALE_TOKEN, TELEGRAM_TOKEN)
    only = Settings.from_env({"RADYAR_BALE_TOKEN": BALE_TOKEN})
    assert only.bot.platforms() == ("bale",)
