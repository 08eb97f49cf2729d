"""`afisha event move` and `event cancel --notice`: the new date or the cancellation reaches the
channel that announced the event, through the real client and the sandbox (#16 point 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from afisha.cli import cli
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread

Run = Callable[..., Result]


def in_days(days: int) -> date:
    """A day ahead in the library's zone."""
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(ZoneInfo("Asia/Almaty")).date()


@pytest.fixture
def afisha(sandbox: SandboxThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    fixtures = sandbox.sandbox.fixtures
    env = {
        "AFISHA_DATABASE_URL": f"sqlite:///{tmp_path}/afisha.db",
        "AFISHA_SECRET_KEY": generate_key(),
        "AFISHA_TIMEZONE": "Asia/Almaty",
        "AFISHA_LANGUAGE": "ru",
        "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        "AFISHA_TELEGRAM_TOKEN": fixtures.bot_token,
        "AFISHA_TELEGRAM_API_URL": sandbox.base_url,
        "AFISHA_GRAPH_API_URL": f"{sandbox.base_url}/graph",
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    chat = str(fixtures.chats[0].id)
    run("channel", "add", "tg", "--platform", "telegram", "--chat-id", chat, "--lang", "lt")
    return run


def texts(sandbox: SandboxThread) -> list[str]:
    return [item.text for item in sandbox.sandbox.ledger.items if item.platform == "telegram"]


def add_event(afisha: Run, title: str, day: date) -> str:
    return str(
        afisha(
            "event",
            "add",
            "--title",
            title,
            "--starts",
            f"{day} 18:00",
            "--place",
            "Hall",
            "--channels",
            "tg",
            "--reminders",
            "2h",
            "--announce",
            "now",
        ).output.strip()
    )


def test_a_moved_and_then_cancelled_event_is_told_on_its_channel(
    afisha: Run, sandbox: SandboxThread
) -> None:
    day = in_days(10)
    event_id = add_event(afisha, "Poetry night", day)
    afisha("worker", "--once")
    assert [t.splitlines()[0] for t in texts(sandbox)] == ["📅 Poetry night"]

    later = day + timedelta(days=2)
    moved = afisha("event", "move", event_id, "--starts", f"{later} 17:00", "--place", "Main hall")
    assert "notice on 1 channel(s)" in moved.output
    (shown,) = json.loads(afisha("event", "list", "--json").output)
    assert shown["starts_local"].startswith(f"{later} 17:00")
    afisha("worker", "--once")
    notice = texts(sandbox)[-1]
    assert notice.startswith("🔁 Nauja data: Poetry night")  # in the channel's language
    assert "Main hall" in notice

    cancelled = afisha("event", "cancel", event_id)  # --notice is the default
    assert "notice on 1 channel(s)" in cancelled.output
    afisha("worker", "--once")
    assert texts(sandbox)[-1].startswith("❌ Atšaukta: Poetry night")


def test_no_notice_and_refused_moves(afisha: Run, sandbox: SandboxThread) -> None:
    day = in_days(10)
    event_id = add_event(afisha, "Quiet evening", day)
    afisha("worker", "--once")
    before = afisha("event", "list", "--json").output

    past = afisha("event", "move", event_id, "--starts", "2020-01-01 10:00", code=2)
    assert "past" in past.output
    unknown = afisha("event", "move", "999", "--starts", f"{day} 10:00", code=2)
    assert "999" in unknown.output
    assert afisha("event", "list", "--json").output == before

    afisha("event", "cancel", event_id, "--no-notice")
    afisha("worker", "--once")
    assert [t.splitlines()[0] for t in texts(sandbox)] == ["📅 Quiet evening"]
    moving_cancelled = afisha("event", "move", event_id, "--starts", f"{day} 10:00", code=2)
    assert "cancelled" in moving_cancelled.output
