"""Translations: every message a person reads goes through the gettext catalogs in four languages.

Catalogs are `content/locales/<lang>/LC_MESSAGES/afisha.po`, read with Babel (no compile step).
English is the source language: its msgids are the English messages themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from content.domain.languages import LANGUAGES
from content.errors import InvalidInput, shown

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "afisha"
# Functions whose first argument is a translatable message (for extraction and its test).
KEYWORDS: dict[str, None] = {
    "_": None,
    "N_": None,
    "InvalidInput": None,
    "NotFound": None,
    "Problem": None,
    "Note": None,
}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a message for the catalogs without translating it here."""
    return message


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(language: str) -> dict[str, str]:
    """msgid → translation for `language` (empty for English, the source)."""
    path = catalog_path(language)
    if language == "en" or not path.is_file():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def translate(language: str, message: str, /, **params: object) -> str:
    """`message` in `language` (English when untranslated), with `{name}` params filled in."""
    language = language if language in LANGUAGES else "en"
    table = catalog(language)
    text = table.get(message, message)
    if not params:
        return text
    # Parameters that are themselves marked messages (e.g. "the text length") translate too.
    return text.format(
        **{
            k: table.get(v, v) if isinstance(v, str) else shown(v, language)
            for k, v in params.items()
        }
    )


def gettext_for(language: str) -> Callable[..., str]:
    """A `_` bound to one language."""

    def _(message: str, /, **params: object) -> str:
        return translate(language, message, **params)

    return _


def explain(error: InvalidInput, language: str) -> str:
    """An InvalidInput in the person's language."""
    return translate(language, error.template, **error.params)
