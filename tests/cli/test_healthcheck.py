"""``python -m radyar.healthcheck``, the containers' health check: it asks ``radyar run``'s
/healthz on this machine, bearing RADYAR_METRICS_TOKEN when one is set (the listener then
answers no one else), and for a worker whether the database answers."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

from radyar.app import App
from radyar.healthcheck import healthz_url, main
from radyar.outbox_run import serve_http
from radyar.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

TOKEN = "metrics-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def _serving(env: ClinicEnv, port: int, token: str) -> AsyncIterator[None]:
    settings = Settings.from_env({"RADYAR_HTTP_PORT": str(port), "RADYAR_METRICS_TOKEN": token})
    stop = asyncio.Event()
    app = App(settings, env.engine, env.sessionmaker, env.clock)
    task = asyncio.create_task(serve_http(settings, app, stop))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def check(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> int:
    for name in ("RADYAR_HTTP_HOST", "RADYAR_METRICS_TOKEN", "RADYAR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return await asyncio.to_thread(main, list(args))


@pytest.mark.parametrize("token", ["", TOKEN])
async def test_run_is_healthy_seen_from_its_own_container(
    sqlite_env: ClinicEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
) -> None:
    port = _free_port()
    # As in compose: the listener on every address of the container, the check on loopback.
    ours = {"RADYAR_HTTP_HOST": "0.0.0.0", "RADYAR_HTTP_PORT": str(port)}
    assert healthz_url(ours) == f"http://127.0.0.1:{port}/healthz"
    async with _serving(sqlite_env, port, token):
        assert await check(monkeypatch, {**ours, "RADYAR_METRICS_TOKEN": token}) == 0
        if token:
            wrong = {**ours, "RADYAR_METRICS_TOKEN": "another-token-0123456789"}
            assert await check(monkeypatch, wrong) == 1
            assert "/healthz answered 401" in capsys.readouterr().err
    assert await check(monkeypatch, ours) == 1  # radyar run has stopped
    assert "/healthz did not answer" in capsys.readouterr().err


async def test_a_worker_is_healthy_while_its_database_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path))
    assert await check(monkeypatch, {}, "--database") == 0
    closed = f"postgresql://radyar:secret-password@127.0.0.1:{_free_port()}/radyar"
    assert await check(monkeypatch, {"RADYAR_DATABASE_URL": closed}, "--database") == 1
    err = capsys.readouterr().err
    assert "the database did not answer" in err and "secret-password" not in err
