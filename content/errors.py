"""The one error hierarchy of Afisha, rooted in AfishaError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class AfishaError(Exception):
    """Root of every error Afisha raises on purpose."""


class InvalidInput(AfishaError):
    """A person gave input Afisha cannot accept; the message says what and what to do.

    `template` is the English message with `{name}` placeholders; it doubles as the msgid in
    the translation catalogs, so the same error reads in the user's language.
    """

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**{k: shown(v, "en") for k, v in params.items()}))


class NotFound(InvalidInput):
    """A referenced record (channel, post, staff member, event) does not exist."""


class IllegalTransition(AfishaError):
    """A state change that the state machine does not allow."""

    def __init__(self, kind: str, current: str, target: str) -> None:
        self.kind, self.current, self.target = kind, current, target
        super().__init__(f"{kind} cannot go from {current} to {target}")


class ConfigurationError(AfishaError):
    """The configuration is missing something or holds an invalid value."""


class StorageError(AfishaError):
    """The database cannot be reached or used."""


@dataclass(frozen=True)
class LocalMoment:
    """A moment named in a message: shown in the zone `at` carries (the organisation's), with
    the year when it is not the year of `now`."""

    at: datetime
    now: datetime


@dataclass(frozen=True)
class Phrases:
    """Messages named inside a message (e.g. each limit a post exceeds): each translated with
    its own parameters, joined by "; "."""

    items: tuple[tuple[str, dict[str, object]], ...]


def shown(value: Any, language: str) -> Any:
    """A message parameter as a person reads it in `language`: a LocalMoment through the one
    local-time format, Phrases each translated, anything else as it is."""
    if isinstance(value, Phrases):
        # Imported here: content.i18n imports this module.
        from content.i18n import translate

        return "; ".join(translate(language, t, **params) for t, params in value.items)
    if isinstance(value, LocalMoment):
        # Imported here: content.domain.templates imports modules that import this one.
        from content.domain.templates import local_time

        tz = value.at.tzinfo or UTC
        return local_time(value.at, tz, language, value.now)
    return value
