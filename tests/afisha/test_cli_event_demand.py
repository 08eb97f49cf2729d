"""`afisha event list --json` says how many followers asked to be reminded of each event, and only
of the library's own events (two libraries)."""

from __future__ import annotations

import json
from pathlib import Path

from content.storage.db import make_engine, session_factory
from content.storage.models import EventSubscription
from tests.afisha.test_event_changes import (
    TOWN,
    VILLAGE,
    Run,
    add_event,
    afisha,
    in_days,
)

__all__ = ["afisha"]  # the fixture


def ask(tmp_path: Path, event_id: str, *followers: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/afisha.db")
    try:
        with session_factory(engine).begin() as session:
            for follower in followers:
                session.add(EventSubscription(event_id=int(event_id), telegram_user_id=follower))
    finally:
        engine.dispose()


def test_event_list_counts_each_librarys_reminder_requests(afisha: Run, tmp_path: Path) -> None:
    day = in_days(10)
    poetry = add_event(afisha, TOWN, "tg", "Poetry night", day)
    quiet = add_event(afisha, TOWN, "tg", "Quiet reading", day)
    fair = add_event(afisha, VILLAGE, "vtg", "Village fair", day)
    ask(tmp_path, poetry, 1001, 1002)
    ask(tmp_path, fair, 1003, 1004, 1005)

    town = json.loads(afisha("event", "list", "--json", "--org", TOWN).output)
    assert {e["id"]: e["reminder_requests"] for e in town} == {int(poetry): 2, int(quiet): 0}
    (village,) = json.loads(afisha("event", "list", "--json", "--org", VILLAGE).output)
    assert (village["id"], village["reminder_requests"]) == (int(fair), 3)


def test_report_csv_writes_each_librarys_events_beside_the_raw_export(
    afisha: Run, tmp_path: Path
) -> None:
    day = in_days(10)
    add_event(afisha, TOWN, "tg", "Poetry night", day)
    add_event(afisha, VILLAGE, "vtg", "Village fair", day)
    month = f"{day:%Y-%m}"
    afisha("report", "--month", month, "--format", "csv", "--lang", "ru", "--org", TOWN)
    town = (tmp_path / f"afisha-events-{month}-ru.csv").read_text("utf-8-sig")
    assert (tmp_path / f"afisha-report-{month}-ru.csv").exists()
    out = tmp_path / "village.csv"
    afisha("report", "--month", month, "--format", "csv", "--org", VILLAGE, "--output", str(out))
    village = (tmp_path / "village-events.csv").read_text("utf-8-sig")
    assert "Poetry night" in town
    assert "Village fair" not in town
    assert "Village fair" in village
    assert "Poetry night" not in village
    assert ",upcoming," in town
