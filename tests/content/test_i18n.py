"""Every message a person reads exists in all four languages, with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from content.domain.rules import fit_problems
from content.domain.states import Platform
from content.errors import InvalidInput
from content.i18n import KEYWORDS, catalog, explain, translate

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("content", "channels", "scheduler", "bot", "afisha")


def extracted() -> set[str]:
    found = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.add(msgid)
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_messages_are_extracted() -> None:
    assert len(extracted()) > 40


@pytest.mark.parametrize("language", ["ru", "kk", "lt"])
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    table = catalog(language)
    missing = sorted(m for m in extracted() if not table.get(m))
    assert missing == [], f"untranslated in {language} (run `make catalogs` and translate)"
    for msgid in extracted():
        assert fields(table[msgid]) == fields(msgid), (language, msgid)


def test_errors_and_their_parameters_read_in_the_users_language() -> None:
    error = InvalidInput("unknown channel {name!r} (known channels: {known})", name="x", known="a")
    assert explain(error, "ru") == "Неизвестный канал 'x' (известные каналы: a)"
    assert explain(error, "en") == str(error)
    problem = fit_problems(Platform.INSTAGRAM, "#a " * 31, 1, "ig")[0]
    assert translate("lt", problem.template, **problem.params) == (
        "ig: grotažymių skaičius yra 31, tai viršija Instagram ribą (30) 1"
    )


def test_unknown_language_falls_back_to_english() -> None:
    assert translate("de", "the post has no text") == "the post has no text"
