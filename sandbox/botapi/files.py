"""Stored files: ids, paths and bytes of everything sent in either direction, and image sizes."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "audio/ogg": "oga",
    "text/plain": "txt",
}
# Telegram offers these thumbnail widths below the original photo.
_THUMB_SIDES = (90, 320, 800)


@dataclass(frozen=True)
class StoredFile:
    """One file the sandbox holds: what getFile returns and what the file URL serves."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    file_name: str | None = None

    def file_json(self) -> JSON:
        """The File object of getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


class FileStore:
    """Files by file_id and by file_path; ids are deterministic for reproducible tests."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self, data: bytes, mime_type: str, *, folder: str, file_name: str | None = None
    ) -> StoredFile:
        """Store bytes and return their new identity."""
        self._counter += 1
        digest = hashlib.sha256(data + str(self._counter).encode()).hexdigest()
        ext = _EXTENSIONS.get(mime_type) or _extension(file_name) or "bin"
        stored = StoredFile(
            file_id=f"BQACAgQAAxkBAAI{self._counter:06d}{digest[:24]}",
            file_unique_id=f"AgAD{digest[24:36]}",
            file_path=f"{folder}/file_{self._counter}.{ext}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def by_id(self, file_id: str) -> StoredFile | None:
        """The file with this file_id, if any."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """The file served at this file_path, if any."""
        return self._by_path.get(file_path)

    def photo_sizes(self, data: bytes, mime_type: str, width: int, height: int) -> list[JSON]:
        """PhotoSize objects, thumbnails first; each size serves the original bytes."""
        sides = [side for side in _THUMB_SIDES if side < max(width, height)]
        sizes: list[JSON] = []
        for side in [*sides, max(width, height)]:
            scale = side / max(width, height)
            stored = self.add(data, mime_type, folder="photos")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        return sizes

    def clear(self) -> None:
        """Forget every file."""
        self._by_id.clear()
        self._by_path.clear()


def _extension(file_name: str | None) -> str | None:
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()[:8] or None
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG or GIF image, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None
