"""Schema revisions read without Alembic agree with Alembic (content/storage/db.py)."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from content.storage.db import (
    MIGRATIONS,
    _revision_header,
    current_revisions,
    head_revisions,
    is_up_to_date,
    make_engine,
    upgrade,
)


def test_head_revisions_are_alembic_s() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    assert head_revisions() == set(script.get_heads())


def test_revision_headers_in_every_spelling(tmp_path: Path) -> None:
    path = tmp_path / "0009_merge.py"
    path.write_text(
        '"""merge\n\nRevision ID: 0009\nRevises: 0007, 0008\n"""\n\n'
        'revision: str = "0009"\n'
        "down_revision: str | tuple[str, ...] | None = ('0007', '0008')\n"
        "branch_labels = None\n"
    )
    assert _revision_header(path) == ("0009", {"0007", "0008"})
    path.write_text("revision = '0001'\ndown_revision = None\n")
    assert _revision_header(path) == ("0001", set())


def test_current_revisions_are_alembic_s_from_empty_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        for step in (None, "0003", "heads"):
            if step is not None:
                upgrade(engine, step)
            with engine.connect() as connection:
                alembic_says = set(MigrationContext.configure(connection).get_current_heads())
            assert current_revisions(engine) == alembic_says
            assert is_up_to_date(engine) == (step == "heads")
    finally:
        engine.dispose()
