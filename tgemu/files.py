"""In-memory file storage behind ``file_id``, ``getFile`` and the file download URL.

Every photo, document or voice note (sent by a user through the control API or
uploaded by the bot) is kept here once, with a ``file_id`` that can be sent again
and a ``file_path`` that ``/file/bot<token>/<file_path>`` serves.  Image sizes are
sniffed from PNG/JPEG/GIF headers so ``PhotoSize.width/height`` are believable.
"""

from __future__ import annotations

import itertools
import secrets
import struct
from dataclasses import dataclass
from typing import Any

_KIND_PREFIX = {"photo": "AgAC", "document": "BQAC", "voice": "AwAC"}
_KIND_DIR = {"photo": "photos", "document": "documents", "voice": "voice"}


@dataclass(slots=True)
class StoredFile:
    """One stored file and the metadata Telegram reports about it."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)

    def photo_sizes(self) -> list[dict[str, Any]]:
        """The ``photo`` array of a Message (one size: the original)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width or 0,
                "height": self.height or 0,
                "file_size": self.file_size,
            }
        ]

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def voice(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "duration": self.duration or 0,
            "mime_type": self.mime_type or "audio/ogg",
            "file_size": self.file_size,
        }

    def file_object(self) -> dict[str, Any]:
        """The ``File`` object ``getFile`` returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG image, or None if unrecognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + int(length)
    return None


class FileStore:
    """All files, by ``file_id`` and by ``file_path``."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def clear(self) -> None:
        self._by_id.clear()
        self._by_path.clear()

    def add(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        n = next(self._counter)
        unique = f"AQAD{n:06d}{secrets.token_hex(4)}"
        file_id = f"{_KIND_PREFIX.get(kind, 'BQAC')}{secrets.token_urlsafe(24)}"
        ext = _extension(kind, file_name, mime_type)
        path = f"{_KIND_DIR.get(kind, 'documents')}/file_{n}{ext}"
        if kind == "photo" and (width is None or height is None):
            size = image_size(data)
            width, height = size if size else (width or 100, height or 100)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            duration=duration,
        )
        self._by_id[file_id] = stored
        self._by_path[path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)


def _extension(kind: str, file_name: str | None, mime_type: str | None) -> str:
    if file_name and "." in file_name:
        ext = "." + file_name.rsplit(".", 1)[1]
        if ext[1:].isalnum() and len(ext) <= 10:
            return ext
    if kind == "photo":
        return ".jpg"
    if kind == "voice":
        return ".oga"
    if mime_type == "application/pdf":
        return ".pdf"
    return ""
