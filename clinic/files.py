"""Where uploaded prescriptions are kept: files under the data folder, named by random ids."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING

from clinic.errors import NotFound

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


class FileStore:
    """Stores bytes under ``root``; references are relative paths that reveal nothing."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(self, data: bytes, content_type: str, now: datetime) -> str:
        """Write ``data`` and return its reference, e.g. ``referrals/2026/11/3f…a1.jpg``."""
        ref = f"referrals/{now:%Y/%m}/{secrets.token_hex(16)}{EXTENSIONS.get(content_type, '')}"
        path = self.root / ref
        await asyncio.to_thread(_write, path, data)
        return ref

    async def read(self, ref: str) -> bytes:
        """The bytes behind ``ref``; NotFound if missing or outside the store."""
        path = (self.root / ref).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise NotFound()
        return await asyncio.to_thread(path.read_bytes)

    async def delete(self, ref: str) -> bool:
        """Remove the file behind ``ref``; whether there was one (outside the store: no)."""
        path = (self.root / ref).resolve()
        if not path.is_relative_to(self.root.resolve()):
            return False
        return await asyncio.to_thread(_unlink, path)

    async def older_than(self, moment: datetime) -> list[str]:
        """The references of the files last written before ``moment``."""
        return await asyncio.to_thread(_older, self.root, moment.timestamp())


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _older(root: Path, before: float) -> list[str]:
    folder = root / "referrals"
    if not folder.is_dir():
        return []
    return sorted(
        str(path.relative_to(root))
        for path in folder.rglob("*")
        if path.is_file() and path.stat().st_mtime < before
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
