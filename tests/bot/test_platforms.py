"""Telegram and Bale from one code base; commands in fa and en on start; the webhook accepts
only updates that carry its secret."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.application import COMMANDS, DESCRIPTION, BotApplication, BotConfig, build_application
from bot.conversations import registration as reg
from bot.platforms import PLATFORMS
from clinic.demo import seed_demo
from clinic.i18n import translator
from clinic.models import ChatAccount, Platform, ProcessedUpdate
from radyar.app import App
from radyar.botrun import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    bot_application,
    running_bot,
    webhook_app,
    webhook_path,
)
from radyar.settings import Settings
from sandbox.botapi import BotApiSandbox, RateLimits
from tests.bot.flows import register
from tests.bot.harness import TOKEN, Harness, running

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

SECRET = "s3cret-Token_42"
WELCOME = translator("fa").gettext(reg.WELCOME).split("{")[0]  # before the department's name


@pytest.fixture(autouse=True)
def _no_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors


@pytest.fixture
async def bale(sqlite_env: ClinicEnv, tmp_path: Path) -> AsyncIterator[Harness]:
    """The demo department and the bot, both on Bale's flavour of the Bot API."""
    async with sqlite_env.uow() as uow:
        await seed_demo(uow)
        await uow.commit()
    async with running(sqlite_env, tmp_path / "files", platform=Platform.BALE) as started:
        yield started


def _app(env: ClinicEnv, settings: Settings) -> App:
    return App(settings, env.engine, env.sessionmaker, env.clock)


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"RADYAR_DATA_DIR": str(tmp_path), **env})


async def test_bale_and_telegram_addresses(sqlite_env: ClinicEnv, tmp_path: Path) -> None:
    assert PLATFORMS[Platform.BALE].base_url == "https://tapi.bale.ai/bot"
    assert PLATFORMS[Platform.BALE].base_file_url == "https://tapi.bale.ai/file/bot"
    assert PLATFORMS[Platform.TELEGRAM].base_url == "https://api.telegram.org/bot"
    bale = _settings(tmp_path, RADYAR_PLATFORM="bale", RADYAR_BALE_TOKEN=TOKEN)
    application = bot_application(bale, _app(sqlite_env, bale))
    assert application.bot.base_url == f"https://tapi.bale.ai/bot{TOKEN}"
    assert application.bot.base_file_url == f"https://tapi.bale.ai/file/bot{TOKEN}"
    assert application.bot_data.services is not None
    assert application.bot_data.services.platform is Platform.BALE
    mirror = replace(bale, bot=replace(bale.bot, api_url="http://127.0.0.1:9/bot"))
    assert bot_application(mirror, _app(sqlite_env, mirror)).bot.base_url.startswith(
        "http://127.0.0.1:9/bot"
    )
    telegram = _settings(tmp_path, RADYAR_TELEGRAM_TOKEN=TOKEN)
    application = bot_application(telegram, _app(sqlite_env, telegram))
    assert application.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"


async def test_a_patient_registers_on_bale(bale: Harness) -> None:
    chat = bale.user(7001)
    await register(chat, 0)
    assert chat.last_text() == chat._(reg.DONE).format(name="علی")
    async with bale.env.uow() as uow:
        account = await uow.session.scalar(select(ChatAccount))
        platforms = set(await uow.session.scalars(select(ProcessedUpdate.platform)))
    assert account is not None
    assert (account.platform, account.user_id) == ("bale", 7001)
    assert platforms == {"bale"}
    calls = bale.sandbox.request_counts()
    assert calls.get("setMyCommands") == 2
    assert calls.get("setMyDescription", 0) == 0  # Bale has none; not even tried


async def test_commands_and_description_are_set_in_persian_and_english(harness: Harness) -> None:
    application = harness.application
    assert application is not None
    for lang in ("fa", "en"):
        _ = translator(lang).gettext
        commands = await application.bot.get_my_commands(language_code=lang)
        assert [(c.command, c.description) for c in commands] == [
            (name, _(text)) for name, text in COMMANDS
        ]
    assert harness.sandbox.request_counts().get("setMyDescription") == 2
    bot = next(iter(harness.sandbox.world.bots.values()))
    assert translator("en").gettext(DESCRIPTION) in bot.descriptions.values()


def _forged_start(user_id: int, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "X"},
            "from": {"id": user_id, "is_bot": False, "first_name": "X"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def _serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _webhook_bot(env: ClinicEnv, sandbox: BotApiSandbox, files: Path) -> BotApplication:
    services = Harness(sandbox, env, files, Platform(sandbox.platform)).services()
    config = BotConfig(TOKEN, sandbox.base_url, sandbox.base_file_url)
    return build_application(config, services)


async def _post_statuses(url: str, bodies: list[tuple[dict[str, str], bytes]]) -> list[int]:
    statuses = []
    async with aiohttp.ClientSession() as http:
        for headers, body in bodies:
            headers = {"Content-Type": "application/json", **headers}
            async with http.post(url, data=body, headers=headers) as response:
                statuses.append(response.status)
    return statuses


async def _processed(env: ClinicEnv) -> set[int]:
    async with env.uow() as uow:
        return set(await uow.session.scalars(select(ProcessedUpdate.update_id)))


async def test_the_webhook_takes_only_updates_with_its_secret(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        application: BotApplication = await _webhook_bot(sqlite_env, sandbox, tmp_path)
        async with application:
            await application.start()
            runner, root = await _serve(webhook_app(application, SECRET))
            try:
                url = root + WEBHOOK_PATH
                await application.bot.set_webhook(url, secret_token=SECRET)
                sandbox.create_user(7101, "Sara", phone_number="989120007101")
                sandbox.send_command(7101, "start")  # pushed by the sandbox, with the secret
                welcome = await sandbox.wait_for_message(7101)
                assert (welcome.text or "").startswith(WELCOME)
                forged = json.dumps(_forged_start(7102, 999)).encode()
                statuses = await _post_statuses(
                    url,
                    [
                        ({}, forged),
                        ({SECRET_HEADER: "wrong"}, forged),
                        ({SECRET_HEADER: SECRET + "x"}, forged),
                        ({SECRET_HEADER: SECRET}, b"[1, 2]"),
                        ({SECRET_HEADER: SECRET}, b"not json"),
                    ],
                )
                assert statuses == [403, 403, 403, 400, 400]
                # A real update after them: once it is answered, anything queued before it was
                # handled too (one at a time, in order), so the forged one was never queued.
                sandbox.create_user(7102, "Reza", phone_number="989120007102")
                sandbox.send_command(7102, "start")
                await sandbox.wait_for_message(7102)
                assert len(sandbox.messages_to(7102)) == 1
                assert 999 not in await _processed(sqlite_env)
            finally:
                await application.stop()
                await runner.cleanup()


async def test_on_bale_the_secret_is_in_the_webhook_path(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    assert PLATFORMS[Platform.BALE].webhook_secret_header is False
    with pytest.raises(ValueError, match="secret"):
        webhook_app(await _webhook_bot(sqlite_env, BotApiSandbox([TOKEN]), tmp_path), "")
    async with BotApiSandbox([TOKEN], platform="bale", limits=RateLimits.disabled()) as sandbox:
        application: BotApplication = await _webhook_bot(sqlite_env, sandbox, tmp_path)
        async with application:
            await application.start()
            runner, root = await _serve(webhook_app(application, SECRET, in_header=False))
            try:
                await application.bot.set_webhook(root + webhook_path(SECRET, in_header=False))
                sandbox.create_user(7201, "Sara", phone_number="989120007201")
                sandbox.send_command(7201, "start")
                welcome = await sandbox.wait_for_message(7201)
                assert (welcome.text or "").startswith(WELCOME)
                forged = json.dumps(_forged_start(7202, 998)).encode()
                wrong = await _post_statuses(root + WEBHOOK_PATH + "/wrong", [({}, forged)])
                bare = await _post_statuses(
                    root + WEBHOOK_PATH, [({SECRET_HEADER: SECRET}, forged)]
                )
                assert (wrong, bare) == ([403], [404])
                sandbox.create_user(7202, "Reza", phone_number="989120007202")
                sandbox.send_command(7202, "start")
                await sandbox.wait_for_message(7202)
                assert len(sandbox.messages_to(7202)) == 1
                assert 998 not in await _processed(sqlite_env)
            finally:
                await application.stop()
                await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_radyar_run_on_bale_by_polling_and_on_telegram_by_webhook(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> None:
    """``radyar run``'s wiring: the platform, the API address, and a webhook it secures itself."""
    async with BotApiSandbox([TOKEN], platform="bale", limits=RateLimits.disabled()) as sandbox:
        settings = _settings(
            tmp_path,
            RADYAR_PLATFORM="bale",
            RADYAR_BALE_TOKEN=TOKEN,
            RADYAR_BOT_API_URL=sandbox.base_url,
            RADYAR_BOT_FILE_URL=sandbox.base_file_url,
        )
        async with running_bot(settings, _app(sqlite_env, settings)):
            sandbox.create_user(7301, "Sara", phone_number="989120007301")
            sandbox.send_command(7301, "start")
            assert ((await sandbox.wait_for_message(7301)).text or "").startswith(WELCOME)
    async with BotApiSandbox([TOKEN], limits=RateLimits.disabled()) as sandbox:
        port = _free_port()
        settings = _settings(
            tmp_path,
            RADYAR_TELEGRAM_TOKEN=TOKEN,
            RADYAR_BOT_API_URL=sandbox.base_url,
            RADYAR_WEBHOOK_URL=f"http://127.0.0.1:{port}",
            RADYAR_LISTEN_PORT=str(port),
        )
        app = _app(sqlite_env, settings)
        async with running_bot(settings, app):
            bot = next(iter(sandbox.world.bots.values()))
            assert bot.webhook is not None
            assert len(bot.webhook.secret_token or "") >= 32  # made up for this run
            sandbox.create_user(7302, "Sara", phone_number="989120007302")
            sandbox.send_command(7302, "start")
            assert ((await sandbox.wait_for_message(7302)).text or "").startswith(WELCOME)
            forged = _forged_start(7303, 997)
            url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            assert await _post_statuses(url, [({}, json.dumps(forged).encode())]) == [403]
            # The webhook listener is behind the connection gate (its idle timer and cap).
            assert app.guards["webhook"].accepted >= 2
