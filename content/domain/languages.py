"""The languages Afisha speaks."""

from __future__ import annotations

from content.errors import InvalidInput

LANGUAGES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "lt": "Lietuvių"}


def check_language(code: str) -> str:
    """`code` normalised, or InvalidInput listing the supported ones."""
    normal = code.strip().lower()
    if normal not in LANGUAGES:
        raise InvalidInput(
            "unsupported language {code!r}: choose one of {choices}",
            code=code,
            choices=", ".join(LANGUAGES),
        )
    return normal
