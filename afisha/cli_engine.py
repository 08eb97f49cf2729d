"""`afisha run` and `afisha worker`: the engine (and bot) as long-running processes."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the engine's commands to the `afisha` group."""
