"""Where uploaded prescriptions are kept: files under the data folder, named by random ids.

An upload is written as it arrives, up to a limit, and kept only when its first bytes show it
is a kind we keep (``sniff``): what a chat platform says a file is (its MIME type) is only
the sender's word, and a web page declared as a PDF is still a web page.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from clinic.errors import NotFound

if TYPE_CHECKING:
    from collections.abc import AsyncIterable
    from datetime import datetime
    from pathlib import Path

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
HEAD = 16  # bytes enough to tell every kind we keep
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})


def sniff(head: bytes) -> str | None:
    """The kind of file these first bytes begin (a type of ``EXTENSIONS``), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "image/heic"
    return None


@dataclass(frozen=True)
class Upload:
    """What ``FileStore.save_stream`` made of a stream: kept (``ref``), or nothing left."""

    ref: str | None  # None: nothing was kept
    content_type: str | None  # what the first bytes say it is (None: no kind we keep)
    size: int  # bytes read (past ``limit``: the stream was stopped there)
    too_large: bool = False


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

    async def save_stream(
        self, chunks: AsyncIterable[bytes], now: datetime, *, limit: int
    ) -> Upload:
        """Write ``chunks`` as they come; keep them only if they are at most ``limit`` bytes
        and of a kind ``sniff`` knows. A longer stream is not read further (``too_large``);
        what was written of a refused one is deleted. The caller closes ``chunks``."""
        name = f"referrals/{now:%Y/%m}/{secrets.token_hex(16)}"
        part = self.root / f"{name}.part"
        handle = await asyncio.to_thread(_open, part)
        try:
            head, size = await _copy(chunks, handle, limit)
        except BaseException:  # the download failed or was cancelled: nothing is left
            handle.close()
            _unlink(part)
            raise
        await asyncio.to_thread(handle.close)
        kind = sniff(head)
        if size > limit or kind is None:
            await asyncio.to_thread(_unlink, part)
            return Upload(None, kind, size, too_large=size > limit)
        ref = f"{name}{EXTENSIONS[kind]}"
        await asyncio.to_thread(part.rename, self.root / ref)
        return Upload(ref, kind, size)

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


async def _copy(chunks: AsyncIterable[bytes], handle: IO[bytes], limit: int) -> tuple[bytes, int]:
    """Write ``chunks`` to ``handle`` until past ``limit``: the first bytes and the count."""
    head, size = b"", 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            break
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        await asyncio.to_thread(handle.write, chunk)
    return head, size


def _open(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("wb")
    path.chmod(0o600)
    return handle


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
