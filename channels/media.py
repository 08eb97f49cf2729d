"""Images for Instagram: checked with Pillow before any request, or fitted when asked to.

Instagram's content publishing takes JPEG only, at most 8 MB, with an aspect ratio between 4:5
(portrait) and 1.91:1 (landscape). An image that does not qualify is refused with a reason a
person can act on, or, when the post allows it (`Outgoing.pad_to_fit`), converted to JPEG,
padded with a plain background to the nearest allowed ratio and re-encoded under the size
limit. Prepared files sit next to the original, named by the original's content hash and the
recipe, so each is made once however often a publication is retried.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from channels.base import OutgoingImage, Rejected
from content.domain.states import Platform

IG_MAX_BYTES = 8 * 1024 * 1024
IG_MIN_RATIO = Fraction(4, 5)
IG_MAX_RATIO = Fraction(191, 100)
IG_MAX_SIDE = 1440 * 2  # larger images are scaled down when fitted: Instagram shows 1440 px
BACKGROUND = (255, 255, 255)
RECIPE = "ig1"  # change when the fitting below changes, so old prepared files are not reused
QUALITIES = (92, 85, 75, 65)

UNREADABLE = "The image {name} cannot be read as an image. Upload it again as a JPEG."
NOT_JPEG = (
    "The image {name} is a {format} file; Instagram accepts only JPEG images. Convert it to "
    "JPEG, or let Afisha fit the images for Instagram."
)
TOO_BIG = (
    "The image {name} is {mb:.1f} MB; Instagram accepts at most 8 MB. Use a smaller image, or "
    "let Afisha fit the images for Instagram."
)
BAD_RATIO = (
    "The image {name} is {width}×{height} pixels, {shape}; Instagram accepts shapes from 4:5 "
    "(portrait) to 1.91:1 (landscape). Crop it, or let Afisha pad it to fit."
)


@dataclass(frozen=True)
class PreparedImage:
    """A file Instagram accepts; `changed` when it is not the original file."""

    path: Path
    width: int
    height: int
    changed: bool


def instagram_problems(path: Path) -> list[str]:
    """Every reason Instagram would refuse the file at `path` (empty when it qualifies)."""
    name = path.name
    try:
        with Image.open(path) as image:
            fmt, (width, height) = image.format or "unknown", image.size
    except (UnidentifiedImageError, OSError):
        return [UNREADABLE.format(name=name)]
    problems: list[str] = []
    if fmt != "JPEG":
        problems.append(NOT_JPEG.format(name=name, format=fmt))
    size = path.stat().st_size
    if size > IG_MAX_BYTES:
        problems.append(TOO_BIG.format(name=name, mb=size / 1024 / 1024))
    ratio = Fraction(width, height)
    if ratio < IG_MIN_RATIO:
        shape = "taller than 4:5"
        problems.append(BAD_RATIO.format(name=name, width=width, height=height, shape=shape))
    elif ratio > IG_MAX_RATIO:
        shape = "wider than 1.91:1"
        problems.append(BAD_RATIO.format(name=name, width=width, height=height, shape=shape))
    return problems


def prepare_for_instagram(image: OutgoingImage, *, pad_to_fit: bool) -> PreparedImage:
    """The file to publish for `image`: the original if it qualifies, else a fitted copy.

    Raises:
        Rejected: the image does not qualify and `pad_to_fit` is off, or it cannot be read.
    """
    path = image.path
    problems = instagram_problems(path)
    if not problems:
        with Image.open(path) as opened:
            return PreparedImage(path, opened.width, opened.height, changed=False)
    if not pad_to_fit or problems == [UNREADABLE.format(name=path.name)]:
        raise Rejected(" ".join(problems), platform=Platform.INSTAGRAM)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    target = path.with_name(f"{digest[:32]}.{RECIPE}.jpg")
    if not target.exists():
        encoded = fit(data)
        partial = target.with_suffix(".part")
        partial.write_bytes(encoded)
        partial.replace(target)  # atomic: a crash never leaves half an image to reuse
    with Image.open(target) as prepared:
        return PreparedImage(target, prepared.width, prepared.height, changed=True)


def padded_size(width: int, height: int) -> tuple[int, int]:
    """The smallest canvas holding a `width`×`height` image at an allowed aspect ratio."""
    ratio = Fraction(width, height)
    if ratio < IG_MIN_RATIO:
        return math.ceil(height * IG_MIN_RATIO), height
    if ratio > IG_MAX_RATIO:
        return width, math.ceil(width / IG_MAX_RATIO)
    return width, height


def fit(data: bytes) -> bytes:
    """JPEG bytes of the image in `data`, padded to an allowed ratio and under 8 MB."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)  # animated images: the first frame
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, BACKGROUND)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        else:
            image = image.convert("RGB")
    if max(image.size) > IG_MAX_SIDE:
        image.thumbnail((IG_MAX_SIDE, IG_MAX_SIDE))
    while True:
        canvas_size = padded_size(*image.size)
        canvas = Image.new("RGB", canvas_size, BACKGROUND)
        canvas.paste(
            image, ((canvas_size[0] - image.width) // 2, (canvas_size[1] - image.height) // 2)
        )
        for quality in QUALITIES:
            buffer = io.BytesIO()
            canvas.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= IG_MAX_BYTES:
                return buffer.getvalue()
        # Still too large at the lowest quality: scale down and try again.
        image = image.resize((max(1, image.width * 3 // 4), max(1, image.height * 3 // 4)))
