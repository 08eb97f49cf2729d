"""The one font reports and charts use: DejaVu Sans, shipped with matplotlib, which covers
Cyrillic (Russian, Kazakh) and Lithuanian, so no system fonts are needed."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib.ft2font import FT2Font

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"


@cache
def _covered() -> frozenset[int]:
    return frozenset(FT2Font(str(REGULAR)).get_charmap())


def printable(text: str) -> str:
    """`text` without the characters the font lacks (emoji, mostly), which would draw as boxes."""
    covered = _covered()
    kept = "".join(c for c in text if ord(c) in covered or c in "\n\t")
    return re.sub(" {2,}", " ", kept).strip() if kept != text else text
