"""The browser demo running for a test: the whole world in tmp_path, its page on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest

from radyar.demo_web.server import serving_page
from radyar.demo_web.stack import Demo, running_demo
from tests.conftest import START
from tests.web.client import DemoClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@dataclass
class Running:
    """The demo, its page's URL and a client of its API."""

    demo: Demo
    url: str
    client: DemoClient


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """Sunday 8 Azar 1405, 08:00 in Tehran, and running from there; no Orthanc (its own test
    starts one)."""
    async with (
        running_demo(tmp_path / "demo", start=START, with_orthanc=False) as demo,
        serving_page(demo) as url,
        aiohttp.ClientSession() as http,
    ):
        yield Running(demo, url, DemoClient(http, url))
