"""A database the previous release made (one library, migration head 0009) upgrades with
nothing lost: every row and every value it held is still there, and the network's commands
read it as the first organisation of a tree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, MetaData, select, text

from content.storage.db import current_revisions, head_revisions, make_engine, upgrade
from content.storage.secrets import generate_key
from tests.afisha.test_cli import Afisha

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
CIPHERTEXT = "gAAAAABnot-a-real-token-but-what-0009-stored-encrypted"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine, "0009")
    yield engine
    engine.dispose()


def _at(connection: Connection, minutes: int) -> str:
    """A moment as the 0009 schema stored it: naive UTC text on SQLite, with zone elsewhere."""
    moment = START + timedelta(minutes=minutes)
    if connection.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.isoformat()


def _insert(connection: Connection, table: str, **row: Any) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)  # noqa: S608


def _fill(connection: Connection) -> None:
    """One library with staff, channels, posts and an event, sent and measured."""
    t = lambda minutes: _at(connection, minutes)  # noqa: E731
    _insert(
        connection, "organization", id=1, name="Central library", timezone="Asia/Almaty",
        language="kk", requires_approval=True, created_at=t(0),
    )  # fmt: skip
    for sid, user, name, role, lang in [
        (1, 111, "Aigerim", "manager", "kk"),
        (2, 222, "Dana", "editor", "ru"),
    ]:
        _insert(
            connection, "staff_member", id=sid, organization_id=1, telegram_user_id=user,
            name=name, role=role, language=lang, created_at=t(1),
        )  # fmt: skip
    for cid, platform, name, external, secret in [
        (1, "telegram", "news", "@central_news", None),
        (2, "facebook", "fb", "100200300400500", CIPHERTEXT),
    ]:
        _insert(
            connection, "channel", id=cid, organization_id=1, platform=platform, name=name,
            external_id=external, language="kk", credentials_encrypted=secret, status="active",
            status_reason=None, created_at=t(2), token_expires_at=None, token_checked_at=None,
        )  # fmt: skip
    for pid, status, author, reviewer, planned in [
        (1, "done", 2, 1, "[]"),
        (2, "queued", None, None, "[]"),
        (3, "draft", 2, None, "[1]"),
    ]:
        _insert(
            connection, "post", id=pid, organization_id=1, author_id=author,
            text=f"Post {pid}: кітап жәрмеңкесі", variants='{"ru": "Книжная ярмарка"}',
            link=None, status=status, created_at=t(3), reviewed_by=reviewer,
            review_note=None, planned_channels=planned, planned_at=None, author_name=None,
            reviewer_name="Former manager" if pid == 2 else None,
        )  # fmt: skip
    _insert(
        connection, "event", id=1, organization_id=1, title="Author talk", starts_at=t(3000),
        ends_at=None, place="Reading room", description=None, language="kk", image_id=None,
        registration_url=None, reminder_offsets="[1440, 60]", status="scheduled",
        created_at=t(4),
    )  # fmt: skip
    publications = [
        # id, kind, post, event, channel, due, state, remote id
        (1, "post", 1, None, 1, 10, "sent", "42"),
        (2, "post", 1, None, 2, 10, "sent", "100200300400500_7"),
        (3, "post", 2, None, 1, 9000, "scheduled", None),
        (4, "announcement", None, 1, 1, 20, "sent", "43"),
        (5, "reminder", None, 1, 1, 1560, "scheduled", None),
    ]
    for pub, kind, post, event, channel, due, state, remote in publications:
        sent = state == "sent"
        _insert(
            connection, "publication", id=pub, kind=kind, post_id=post, event_id=event,
            channel_id=channel, offset_minutes=1440 if kind == "reminder" else None,
            due_at=t(due), state=state, attempts=1 if sent else 0, claimed_by=None,
            lease_until=None, remote_id=remote, remote_url=None, last_error=None,
            sent_at=t(due) if sent else None, updated_at=t(due), progress=None,
            next_collect_at=t(due + 60) if sent else None, collect_stage=2 if sent else 0,
            latest_collected_at=t(due + 50) if sent else None,
            latest_reactions=5 if sent else None, latest_comments=1 if sent else None,
            latest_shares=None, latest_views=None, latest_reach=None, latest_saves=None,
            latest_interactions=6 if sent else None,
        )  # fmt: skip
        if sent:
            _insert(
                connection, "attempt", publication_id=pub, number=1, worker="w1",
                started_at=t(due), finished_at=t(due), outcome="sent", error=None,
            )  # fmt: skip
            for stage, reactions in enumerate((1, 3, 5)):
                _insert(
                    connection, "engagement_snapshot", publication_id=pub,
                    collected_at=t(due + 10 + 20 * stage), reactions=reactions, comments=1,
                    shares=None, views=None, reach=None, saves=None,
                    source="graph" if channel == 2 else "bot_updates",
                )  # fmt: skip
    _insert(
        connection, "audit_entry", organization_id=1, actor="cli", action="post.queue",
        subject="post:2", details='{"channels": ["news"]}', at=t(5),
    )  # fmt: skip
    if connection.dialect.name == "postgresql":
        # The ids were given here; the release's own inserts would have moved the sequences.
        for table in ("organization", "staff_member", "channel", "post", "event", "publication"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, each as the values of the columns it had at 0009."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted((tuple(r) for r in connection.execute(select(table))), key=repr)
            for name, table in metadata.tables.items()
            if name != "alembic_version"
        }


def _old_rows(
    engine: Engine, old_columns: dict[str, list[str]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Every 0009 table's rows, each as the values of the columns it had at 0009 (no table of
    0009 may be gone, nor a column)."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        found = {}
        for name in old_columns:
            if name == "alembic_version":
                continue
            table = metadata.tables[name]
            kept = select(*(table.c[column] for column in old_columns[name]))
            found[name] = sorted((tuple(r) for r in connection.execute(kept)), key=repr)
        return found


def _columns(engine: Engine) -> dict[str, list[str]]:
    metadata = MetaData()
    metadata.reflect(engine)
    return {name: [c.name for c in table.columns] for name, table in metadata.tables.items()}


def test_a_single_library_database_upgrades_with_nothing_lost(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as connection:
        _fill(connection)
    old_columns = _columns(engine)
    before = _rows(engine)
    assert len(before["engagement_snapshot"]) == 9

    upgrade(engine)

    assert current_revisions(engine) == head_revisions()
    assert _old_rows(engine, old_columns) == before
    with engine.connect() as connection:
        org = connection.execute(text("SELECT parent_id, grace_minutes FROM organization")).one()
        assert tuple(org) == (None, None)  # a head of its own, with the installation's grace

    # The upgraded database, as the network's command line reads it: the one library is the
    # first organisation (named as in its settings), with its staff, channels and posts.
    monkeypatch.chdir(tmp_path)
    afisha = Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_ORGANIZATION": "Central library",
            "AFISHA_TIMEZONE": "Asia/Almaty",
            "AFISHA_LANGUAGE": "kk",
        }
    )
    shown = json.loads(afisha.ok("org", "show", "Central library", "--json").output)
    assert shown["requires_approval"] is True
    assert [c["name"] for c in shown["channels"]] == ["fb", "news"]
    assert [m["name"] for m in shown["staff"]] == ["Aigerim", "Dana"]
    assert (shown["queued_posts"], shown["queued_publications"]) == (1, 2)
    # A second library joins the network; the first's data stays its own.
    afisha.ok("org", "add", "Village", "--parent", "Central library")
    posts = json.loads(afisha.ok("post", "list", "--json", "--org", "Central library").output)
    assert [p["id"] for p in posts] == [3, 2, 1]
    assert json.loads(afisha.ok("post", "list", "--json", "--org", "Village").output) == []
    sent = next(p for p in posts if p["id"] == 1)["publications"]
    assert {p["remote_id"] for p in sent} == {"42", "100200300400500_7"}
    # The commands added rows (the new library, the audit trail) and lost none of the old.
    after = _old_rows(engine, old_columns)
    for name, rows in before.items():
        assert [row for row in rows if row not in after[name]] == [], name
    assert len(after["organization"]) == 2
