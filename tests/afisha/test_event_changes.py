"""`afisha event move` and `event cancel --notice`: the new date or the cancellation reaches the
channel that announced the event, through the real client and the sandbox (#16 point 2).

Two libraries: the town library (the settings' first) and a village library with a channel of
its own; each command names its library with --org, and one library's event is out of the
other's reach."""

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
TOWN, VILLAGE = "Town Library", "Village Library"


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
        "AFISHA_ORGANIZATION": TOWN,
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

    run("org", "add", VILLAGE, "--timezone", "Asia/Almaty", "--language", "kk")
    for org, name, chat in (
        (TOWN, "tg", fixtures.chats[0].id),
        (VILLAGE, "vtg", fixtures.chats[1].id),
    ):
        run(
            "channel",
            "add",
            name,
            "--platform",
            "telegram",
            "--chat-id",
            str(chat),
            "--lang",
            "lt",
            "--org",
            org,
        )
    return run


def texts(sandbox: SandboxThread) -> list[str]:
    return [item.text for item in sandbox.sandbox.ledger.items if item.platform == "telegram"]


def add_event(afisha: Run, org: str, channel: str, title: str, day: date) -> str:
    return str(
        afisha(
            *("event", "add", "--title", title, "--starts", f"{day} 18:00", "--place", "Hall"),
            *("--channels", channel, "--reminders", "2h", "--announce", "now", "--org", org),
        ).output.strip()
    )


def first_lines(sandbox: SandboxThread) -> list[str]:
    return [t.splitlines()[0] for t in texts(sandbox)]


def test_a_moved_and_then_cancelled_event_is_told_on_its_channel(
    afisha: Run, sandbox: SandboxThread
) -> None:
    day = in_days(10)
    event_id = add_event(afisha, TOWN, "tg", "Poetry night", day)
    village_id = add_event(afisha, VILLAGE, "vtg", "Village fair", day)
    afisha("worker", "--once")
    assert sorted(first_lines(sandbox)) == ["📅 Poetry night", "📅 Village fair"]

    later = day + timedelta(days=2)
    moved = afisha(
        *("event", "move", event_id, "--starts", f"{later} 17:00", "--place", "Main hall"),
        *("--org", TOWN),
    )
    assert "notice on 1 channel(s)" in moved.output
    (shown,) = json.loads(afisha("event", "list", "--json", "--org", TOWN).output)
    assert shown["starts_local"].startswith(f"{later} 17:00")
    (village,) = json.loads(afisha("event", "list", "--json", "--org", VILLAGE).output)
    assert village["id"] == int(village_id)
    assert village["starts_local"].startswith(f"{day} 18:00")
    afisha("worker", "--once")
    notice = texts(sandbox)[-1]
    assert notice.startswith("🔁 Nauja data: Poetry night")  # in the channel's language
    assert "Main hall" in notice

    cancelled = afisha("event", "cancel", event_id, "--org", TOWN)  # --notice is the default
    assert "notice on 1 channel(s)" in cancelled.output
    afisha("worker", "--once")
    assert texts(sandbox)[-1].startswith("❌ Atšaukta: Poetry night")
    assert first_lines(sandbox).count("📅 Village fair") == 1  # the village's event untouched


def test_no_notice_and_refused_moves(afisha: Run, sandbox: SandboxThread) -> None:
    day = in_days(10)
    event_id = add_event(afisha, TOWN, "tg", "Quiet evening", day)
    afisha("worker", "--once")
    before = afisha("event", "list", "--json", "--org", TOWN).output

    refused = [
        (("--starts", "2020-01-01 10:00", "--org", TOWN), "past"),
        (("--starts", f"{day} 10:00", "--org", VILLAGE), f"no event has id {event_id}"),
        (("--starts", f"{day} 10:00"), "--org"),  # two libraries: which one?
    ]
    for options, reason in refused:
        assert reason in afisha("event", "move", event_id, *options, code=2).output
    unknown = afisha("event", "move", "999", "--starts", f"{day} 10:00", "--org", TOWN, code=2)
    assert "999" in unknown.output
    assert afisha("event", "list", "--json", "--org", TOWN).output == before

    afisha("event", "cancel", event_id, "--no-notice", "--org", TOWN)
    afisha("worker", "--once")
    assert first_lines(sandbox) == ["📅 Quiet evening"]
    moving_cancelled = afisha(
        "event", "move", event_id, "--starts", f"{day} 10:00", "--org", TOWN, code=2
    )
    assert "cancelled" in moving_cancelled.output
