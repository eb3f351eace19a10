"""A real Orthanc (Debian's package) on a free loopback port, with its own storage, for tests."""

from __future__ import annotations

import base64
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

from radyar.demo_web import orthanc as demo_orthanc
from tests.conftest import REQUIRE_SERVICES

if TYPE_CHECKING:
    from collections.abc import Iterator

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
USER = demo_orthanc.USER
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class Orthanc(NamedTuple):
    """Where a running test Orthanc answers, and how to log in."""

    url: str
    user: str
    password: str


def free_port() -> int:
    """A TCP port nobody listens on right now (Orthanc 1.10 binds every interface)."""
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        port: int = probe.getsockname()[1]
        return port


def require_orthanc() -> None:
    """Skip (or, in CI, fail) when the Orthanc binary is not installed."""
    if not ORTHANC_BINARY.exists():
        reason = f"Orthanc not installed ({ORTHANC_BINARY} missing; apt-get install orthanc)"
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (RADYAR_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


def write_config(folder: Path, port: int, password: str) -> Path:
    """The demo's config (no plugin, no Lua, no DICOM listener, a password, 127.0.0.1 only),
    a study stable one second after its last image."""
    return demo_orthanc.write_config(folder, port, password, name="RadyarTest", stable_age=1)


def _answers(url: str, password: str) -> bool:
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    request = urllib.request.Request(f"{url}/system", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(folder: Path) -> str:
    lines: list[str] = []
    for log in sorted((folder / "logs").glob("*")):
        if log.is_file():
            lines += log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-20:])


@contextmanager
def running_orthanc(folder: Path, port: int | None = None) -> Iterator[Orthanc]:
    """Start ``/usr/sbin/Orthanc`` storing in ``folder``; stop it (and wait) on exit.

    ``port`` lets a test restart Orthanc at the same address, e.g. on a fresh folder.
    """
    require_orthanc()
    port = port or free_port()
    password = secrets.token_urlsafe(12)
    config = write_config(folder, port, password)
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(ORTHANC_BINARY), f"--logdir={folder / 'logs'}", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(url, password):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Orthanc did not start on {url}:\n{_log_tail(folder)}")
            time.sleep(0.1)
        yield Orthanc(url, USER, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
