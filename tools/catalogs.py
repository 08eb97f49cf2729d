"""Keep the translation catalogs in step with the code: `make catalogs`.

Extracts every marked message from the product packages and merges it into each language's
afisha.po, keeping existing translations; new messages arrive untranslated (the i18n test then
fails until someone translates them).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.domain.languages import LANGUAGES  # noqa: E402
from content.i18n import DOMAIN, KEYWORDS, catalog_path  # noqa: E402

PACKAGES = ("content", "channels", "scheduler", "bot", "afisha")


def extract() -> Catalog:
    template = Catalog(domain=DOMAIN, project="Afisha")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                template.add(
                    msgid,
                    locations=[(f"{package}/{filename}", lineno)],
                    auto_comments=comments,
                    context=context,
                )
    return template


def update(template: Catalog) -> None:
    for language in LANGUAGES:
        if language == "en":
            continue
        path = catalog_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="Afisha")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, omit_header=False)


if __name__ == "__main__":
    update(extract())
    print("catalogs updated:", ", ".join(str(catalog_path(x)) for x in LANGUAGES if x != "en"))
