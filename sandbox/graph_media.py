"""Images the Graph emulator fetches or receives: download over HTTP and identify with Pillow."""

from __future__ import annotations

import io
from dataclasses import dataclass

import aiohttp
from PIL import Image, UnidentifiedImageError

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_BYTES = 8 * 1024 * 1024  # Instagram's limit; Pages accept more but we have no need


@dataclass(frozen=True)
class ImageInfo:
    format: str  # Pillow's name: JPEG, PNG, GIF, WEBP ...
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return Image.MIME.get(self.format, "application/octet-stream")


def identify(data: bytes) -> ImageInfo | None:
    """What image `data` is, judged by its bytes (never by a URL or header), or None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return ImageInfo(str(image.format), image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


async def download(url: str) -> bytes | None:
    """The bytes at `url` as Meta's crawler would get them, or None if that fails."""
    if not url.startswith(("http://", "https://")):
        return None
    try:
        async with (
            aiohttp.ClientSession(timeout=FETCH_TIMEOUT) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                return None
            data = await response.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return data if len(data) <= MAX_BYTES else None
