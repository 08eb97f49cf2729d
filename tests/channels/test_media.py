"""Instagram image checks and fitting with Pillow."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from channels.base import OutgoingImage, Rejected
from channels.media import (
    IG_MAX_BYTES,
    IG_MAX_RATIO,
    IG_MIN_RATIO,
    fit,
    instagram_problems,
    padded_size,
    prepare_for_instagram,
)
from tests.channels.graph_helpers import stored_image


def test_a_fitting_jpeg_is_used_as_it_is(tmp_path: Path) -> None:
    image = stored_image(tmp_path, "ok.jpg", (1080, 1350))

    prepared = prepare_for_instagram(image, pad_to_fit=False)

    assert (prepared.path, prepared.changed) == (image.path, False)
    assert instagram_problems(image.path) == []


@pytest.mark.parametrize(
    ("name", "size", "fmt", "words"),
    [
        ("a.png", (800, 1000), "PNG", "only JPEG"),
        ("tall.jpg", (400, 1000), "JPEG", "taller than 4:5"),
        ("wide.jpg", (2000, 1000), "JPEG", "wider than 1.91:1"),
    ],
)
def test_refused_with_a_reason_unless_padding_is_allowed(
    tmp_path: Path, name: str, size: tuple[int, int], fmt: str, words: str
) -> None:
    image = stored_image(tmp_path, name, size, fmt)

    with pytest.raises(Rejected) as refused:
        prepare_for_instagram(image, pad_to_fit=False)
    prepared = prepare_for_instagram(image, pad_to_fit=True)

    assert words in refused.value.reason
    assert name in refused.value.reason
    assert prepared.changed
    assert prepared.path.parent == image.path.parent
    assert instagram_problems(prepared.path) == []
    with Image.open(prepared.path) as result:
        assert result.format == "JPEG"
        assert IG_MIN_RATIO <= Fraction(result.width, result.height) <= IG_MAX_RATIO


def test_prepared_file_is_made_once(tmp_path: Path) -> None:
    image = stored_image(tmp_path, "a.png", (300, 900), "PNG")

    first = prepare_for_instagram(image, pad_to_fit=True)
    stamp = first.path.stat().st_mtime_ns
    second = prepare_for_instagram(image, pad_to_fit=True)

    assert second.path == first.path
    assert second.path.stat().st_mtime_ns == stamp
    assert len(list(tmp_path.iterdir())) == 2


def test_transparent_png_is_flattened_on_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (100, 100), (0, 0, 0, 0)).save(path)

    with Image.open(io.BytesIO(fit(path.read_bytes()))) as result:
        assert result.getpixel((50, 50)) == pytest.approx((255, 255, 255), abs=3)


def test_over_8_mb_is_refused_then_re_encoded_under_it(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    Image.effect_noise((2400, 2400), 120).convert("RGB").save(path, quality=100)
    padding = IG_MAX_BYTES + 1 - path.stat().st_size
    if padding > 0:  # bytes after the end-of-image marker: Pillow ignores them
        with path.open("ab") as handle:
            handle.write(b"\0" * padding)
    image = OutgoingImage(path, "image/jpeg", 2400, 2400)

    assert any("8 MB" in p for p in instagram_problems(path))
    prepared = prepare_for_instagram(image, pad_to_fit=True)

    assert prepared.path.stat().st_size <= IG_MAX_BYTES


def test_unreadable_file_is_refused_even_with_padding(tmp_path: Path) -> None:
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"not an image")
    image = OutgoingImage(path, "image/jpeg", 1, 1)

    with pytest.raises(Rejected, match="cannot be read"):
        prepare_for_instagram(image, pad_to_fit=True)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20_000), st.integers(1, 20_000))
def test_padded_size_is_the_smallest_allowed_canvas(width: int, height: int) -> None:
    new_width, new_height = padded_size(width, height)

    assert new_width >= width
    assert new_height >= height
    assert IG_MIN_RATIO <= Fraction(new_width, new_height) <= IG_MAX_RATIO
    assert new_width == width or new_height == height
