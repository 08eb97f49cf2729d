"""What `afisha` loads: a worker's memory is mostly its imports (issue 9: under 80 MB).

Each check runs in a fresh interpreter and reads `sys.modules`, so it holds whatever else the
test session has imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from afisha.cli import EXTENSIONS, cli
from afisha.config import Settings
from afisha.wiring import open_afisha

# Libraries only some commands or code paths need (reports, imports, the web port, the bot,
# Facebook and Instagram, migrations), each several MB once imported.
NOT_FOR_THE_WORKER = (
    "aiohttp",
    "alembic",
    "bot",
    "dateparser",
    "facebook",
    "feedparser",
    "icalendar",
    "instaloader",
    "matplotlib",
    "numpy",
    "openpyxl",
    "PIL",
    "reportlab",
    "requests",
    # (a worker on SQLite needs no PostgreSQL dialect)
    "sqlalchemy.dialects.postgresql",
    "telegram.ext",
)


def loaded_after(code: str, *extra: str) -> list[str]:
    """Which of NOT_FOR_THE_WORKER (and `extra`) a fresh interpreter holds after `code`."""
    names = [*NOT_FOR_THE_WORKER, *extra]
    script = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({names!r}) & set(sys.modules))))"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_command_line_loads_no_command_s_libraries() -> None:
    # Not even the platforms' clients: `afisha status` has no use for them.
    assert loaded_after("import afisha.cli", "telegram", "afisha.runtime") == []


def test_the_worker_command_loads_only_what_publishing_needs() -> None:
    code = "import click\nfrom afisha.cli import cli\ncli.get_command(click.Context(cli), 'worker')"
    assert loaded_after(code) == []


def test_opening_a_current_sqlite_database_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'afisha.db'}"
    open_afisha(Settings(database_url=url)).close()  # creates and migrates it
    code = (
        "from afisha.config import Settings\nfrom afisha.wiring import open_afisha\n"
        f"open_afisha(Settings(database_url={url!r})).close()"
    )
    assert loaded_after(code) == []


def test_every_extension_command_is_listed_and_found() -> None:
    context = click.Context(cli)
    assert set(EXTENSIONS) <= set(cli.list_commands(context))
    for name in EXTENSIONS:
        found = cli.get_command(context, name)
        assert found is not None, name
        assert found.name == name
