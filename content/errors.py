"""The one error hierarchy of Afisha, rooted in AfishaError."""

from __future__ import annotations

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
        super().__init__(template.format(**params))


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
