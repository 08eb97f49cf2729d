"""Fill catalog entries from a Python mapping {msgid: (ru, kk, lt)} (a translator's helper)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.i18n import catalog_path  # noqa: E402


def main(source: str) -> None:
    table: dict[str, tuple[str, str, str]] = runpy.run_path(source)["T"]
    for index, language in enumerate(("ru", "kk", "lt")):
        path = catalog_path(language)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for msgid, translations in table.items():
            message = catalog.get(msgid)
            if message is not None and not message.string:
                message.string = translations[index]
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
