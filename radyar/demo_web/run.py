"""``radyar demo --web``: the demo's world in a fresh folder and its page, until stopped."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from radyar.demo_web.server import serving_page
from radyar.demo_web.stack import running_demo

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

START = (
    "Radyar demo: open {url} in a browser on this computer (Ctrl-C stops it).\n"
    "Everything runs here: the real bot and worker over the Bot API and SMS sandboxes,"
    " a seeded SQLite department in {folder}{orthanc}."
)


async def run_web_demo(port: int, out: Callable[[str], None], stop: asyncio.Event) -> int:
    """Start everything in a temporary folder, print the page's URL, serve until ``stop``;
    the folder goes with the demo."""
    with tempfile.TemporaryDirectory(prefix="radyar-demo-") as folder:
        # The sandboxes log every call at INFO (ids only); the visitor watches the page.
        for name in ("sandbox", "telegram.ext", "radyar.demo_web"):
            logging.getLogger(name).setLevel(logging.WARNING)
        async with running_demo(Path(folder)) as demo, serving_page(demo, port=port) as url:
            orthanc = ", Orthanc" if demo.hospital.orthanc is not None else ""
            out(START.format(url=url, folder=folder, orthanc=orthanc))
            await stop.wait()
        out("Radyar demo stopped.")
    return 0
