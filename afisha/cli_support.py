"""What every `afisha` command shares: settings and core loaded once, errors as exit codes."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.orm import Session

from afisha.config import Settings, load_settings
from afisha.wiring import Afisha, open_afisha
from content.domain.callback_data import LARGEST_INT
from content.errors import AfishaError, ConfigurationError, InvalidInput
from content.redaction import hide, redact
from content.storage.models import Organization
from content.storage.registry import get_channel

log = logging.getLogger("afisha")
ACTOR = "cli"


class AfishaGroup(click.Group):
    """Turns Afisha's errors into one-line messages and the documented exit codes.

    `extensions` names, for each command kept in a module of its own, that module; its
    `register(group)` runs when the command is first looked up. `afisha worker` so never imports
    the reports' or the plans' commands, nor `afisha status` the engine's.
    """

    def __init__(
        self, *args: Any, extensions: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.extensions = dict(extensions or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.extensions})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.extensions.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(module).register(self)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (InvalidInput, ConfigurationError) as exc:
            fail(str(exc), 2)
        except AfishaError as exc:
            fail(str(exc), 1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            log.debug("internal error", exc_info=True)
            fail(f"internal error ({exc.__class__.__name__}); run with --debug for details", 1)


class RecordId(click.ParamType):
    """An id on the command line: ASCII digits within the databases' BIGINT (a larger number
    can name no record, and would overflow the query)."""

    name = "id"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            self.fail(f"{value!r} is not a valid id: use the digits 0-9", param, ctx)
        if len(text) > 19 or int(text) > LARGEST_INT:
            self.fail(f"no {self.what} has id {text}: ids go up to {LARGEST_INT}", param, ctx)
        return int(text)


def fail(message: str, code: int) -> NoReturn:
    secrets = _settings_secrets()
    click.echo(f"error: {redact(message, secrets)}", err=True)
    sys.exit(code)


def _settings_secrets() -> list[str]:
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(State) if ctx else None
    settings = state.settings_cache if state else None
    return settings.secrets() if settings else []


class State:
    """Lazily loaded settings and core for the commands of one invocation."""

    def __init__(self, config: Path | None, *, debug: bool = False) -> None:
        self.config = config
        self.debug = debug
        self.settings_cache: Settings | None = None
        self._afisha: Afisha | None = None

    @property
    def settings(self) -> Settings:
        if self.settings_cache is None:
            self.settings_cache = load_settings(self.config)
            hide(*self.settings_cache.secrets())
        return self.settings_cache

    @property
    def log_level(self) -> int:
        """What long-running commands log: details with --debug, else what they do."""
        return logging.DEBUG if self.debug else logging.INFO

    @property
    def afisha(self) -> Afisha:
        if self._afisha is None:
            self._afisha = open_afisha(self.settings)
        return self._afisha

    def close(self) -> None:
        if self._afisha is not None:
            self._afisha.close()


pass_state = click.make_pass_decorator(State)

# The organisation a command acts on: optional while there is one, required once there are several.
org_option = click.option(
    "--org",
    "org_name",
    default=None,
    metavar="NAME",
    help="The organisation (library) to act on; needed when there are several.",
)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def split_names(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


def own_channels(session: Session, org: Organization, names: str) -> list[str]:
    """The comma-separated channel names, each checked to be one of `org`'s channels (another
    library's channel is not found from the command line)."""
    listed = split_names(names)
    for name in listed:
        get_channel(session, name, org)
    return listed
