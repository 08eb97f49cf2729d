"""Storing images: checked with Pillow, kept once by content hash under the media directory."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from content.errors import InvalidInput

# What the platforms accept between them; Instagram needs JPEG, which the channel prepares.
SUPPORTED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImageFacts:
    """What Afisha knows of an image file before it is stored."""

    source: Path
    content_hash: str
    media_type: str
    extension: str
    size: int
    width: int
    height: int

    @property
    def relative_path(self) -> str:
        return f"{self.content_hash[:2]}/{self.content_hash}.{self.extension}"


def inspect_image(path: Path) -> ImageFacts:
    """Check that `path` is an image Afisha can publish; InvalidInput says why not."""
    if not path.is_file():
        raise InvalidInput("image file {path} does not exist", path=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InvalidInput(
            "image {path} is {mb:.1f} MB; the limit is {limit} MB",
            path=str(path),
            mb=size / 1024 / 1024,
            limit=MAX_BYTES // 1024 // 1024,
        )
    # Imported here: every `afisha` command (the worker too) imports this module, few add images.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
            image_format, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidInput(
            "{path} is not an image Afisha can read: use JPEG, PNG, WebP or GIF", path=str(path)
        ) from None
    if image_format not in SUPPORTED:
        raise InvalidInput(
            "{path} is a {format} image; Afisha publishes JPEG, PNG, WebP or GIF",
            path=str(path),
            format=image_format,
        )
    media_type, extension = SUPPORTED[image_format]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ImageFacts(path, digest, media_type, extension, size, width, height)


def store_image(facts: ImageFacts, media_dir: Path) -> Path:
    """Copy the image into the media directory (once per content); returns its stored path."""
    target = media_dir / facts.relative_path
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(facts.source, partial)
        partial.replace(target)  # atomic: a crash never leaves a half-written image
    return target
