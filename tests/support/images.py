"""Image files made on the fly for tests."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def make_image(path: Path, size: tuple[int, int] = (800, 1000), fmt: str = "JPEG") -> Path:
    Image.new("RGB", size, (30, 90, 160)).save(path, fmt)
    return path
