"""Files as Telegram keeps them: photos re-encoded into several sizes, documents kept as sent."""

from __future__ import annotations

import base64
import hashlib
import io
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from PIL import Image, UnidentifiedImageError

from sandbox.telegram_errors import bad_request

# Telegram's photo sizes: thumbnails "s", "m", "x" and the full photo "y", at most 1280 a side.
PHOTO_SIDES = (90, 320, 800)
PHOTO_MAX_SIDE = 1280
PHOTO_MAX_BYTES = 10 * 1024 * 1024


@dataclass
class StoredFile:
    """One downloadable file; a photo has one per size."""

    file_id: str
    file_unique_id: str
    kind: str  # photo | document
    file_path: str
    data: bytes
    width: int = 0
    height: int = 0
    file_name: str | None = None
    mime_type: str | None = None
    photo_group: tuple[str, ...] = ()  # for a photo: every size's file_id, smallest first

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


class FileStore:
    """Every file the bot or a user sent, by file_id and by download path."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._count = 0

    def reset(self) -> None:
        self.by_id.clear()
        self.by_path.clear()
        self._count = 0

    def _ids(self, prefix: str) -> tuple[str, str, int]:
        self._count += 1
        digest = hashlib.sha256(f"{self.seed}:file:{self._count}".encode()).digest()
        text = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return prefix + text, "AQAD" + text[:12], self._count

    def _keep(self, file: StoredFile) -> StoredFile:
        self.by_id[file.file_id] = file
        self.by_path[file.file_path] = file
        return file

    def add_photo(self, data: bytes) -> list[StoredFile]:
        """Re-encode an image into Telegram's sizes, smallest first; rejects non-images."""
        if len(data) > PHOTO_MAX_BYTES:
            raise bad_request("file is too big")
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                original = image.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        width, height = original.size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        longest = max(width, height)
        sides = [side for side in PHOTO_SIDES if side < longest]
        sides.append(min(longest, PHOTO_MAX_SIDE))
        files = []
        for side in sides:
            sized = original.copy()
            sized.thumbnail((side, side))
            buffer = io.BytesIO()
            sized.save(buffer, format="JPEG", quality=87)
            file_id, unique_id, n = self._ids("AgACAgIAAxkBAAI")
            files.append(
                StoredFile(
                    file_id,
                    unique_id,
                    "photo",
                    f"photos/file_{n}.jpg",
                    buffer.getvalue(),
                    width=sized.width,
                    height=sized.height,
                    mime_type="image/jpeg",
                )
            )
        group = tuple(f.file_id for f in files)
        for file in files:
            file.photo_group = group
            self._keep(file)
        return files

    def add_document(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        if not data:
            raise bad_request("file must be non-empty")
        file_id, unique_id, n = self._ids("BQACAgIAAxkBAAI")
        suffix = PurePosixPath(file_name or "").suffix or ".bin"
        mime = mime_type or mimetypes.guess_type(file_name or "")[0] or "application/octet-stream"
        path = f"documents/file_{n}{suffix}"
        return self._keep(
            StoredFile(file_id, unique_id, "document", path, data, 0, 0, file_name, mime)
        )

    def photo_sizes(self, file_id: str) -> list[dict[str, Any]]:
        """The PhotoSize array of a photo sent again by any of its sizes' file_id."""
        file = self.lookup(file_id)
        if file.kind != "photo":
            raise bad_request(f"can't use file of type {file.kind.capitalize()} as Photo")
        return [self.by_id[fid].photo_size() for fid in file.photo_group]

    def lookup(self, file_id: str) -> StoredFile:
        try:
            return self.by_id[file_id]
        except KeyError:
            raise bad_request("wrong file identifier/HTTP URL specified") from None


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))
