"""The command line as scripts and people use it: exit codes, messages, no partial writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from afisha.cli import cli
from content.storage.secrets import generate_key
from tests.support.dbdump import dump
from tests.support.images import make_image

TOKEN = "EAAGm0PX4ZCpsBAPageTokenThatMustNeverLeak0123456789"


class Afisha:
    """Runs `afisha ...` in-process with a given environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(cli, list(args), env={**self.env, **(env or {})})

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def afisha(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Afisha:
    monkeypatch.chdir(tmp_path)
    run = Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_TIMEZONE": "Asia/Almaty",
            "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        }
    )
    run.ok("db", "upgrade")
    run.ok("channel", "add", "news", "--platform", "telegram", "--chat-id", "@library_news")
    return run


def local_date(days: int) -> str:
    return (
        (datetime.now(UTC) + timedelta(days=days))
        .astimezone(ZoneInfo("Asia/Almaty"))
        .date()
        .isoformat()
    )


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in (
        "init",
        "db",
        "config",
        "staff",
        "channel",
        "post",
        "event",
        "status",
        "demo",
        "sandbox",
    ):
        assert f"  {command}" in result.output
    for group, subs in {
        "channel": ["add", "list", "remove", "pause", "resume"],
        "post": ["add", "list", "show", "cancel"],
        "event": ["add", "list", "move", "cancel"],
        "staff": ["add", "set", "list", "remove"],
    }.items():
        output = CliRunner().invoke(cli, [group, "--help"]).output
        assert all(f"  {s}" in output for s in subs), output


def test_local_time_is_stored_as_utc(afisha: Afisha) -> None:
    day = local_date(10)
    post_id = afisha.ok(
        "post", "add", "--text", "Book club", "--channels", "news", "--at", f"{day} 10:00"
    ).output.strip()
    listed = json.loads(afisha.ok("post", "list", "--json").output)
    assert [p["id"] for p in listed] == [int(post_id)]
    publication = listed[0]["publications"][0]
    assert publication["due_at"] == f"{day}T05:00:00+00:00"
    assert publication["due_local"] == f"{day} 10:00 +05"
    assert publication["state"] == "scheduled"


def test_post_add_json_shows_the_publications(afisha: Afisha, tmp_path: Path) -> None:
    image = make_image(tmp_path / "poster.jpg")
    afisha.ok(
        "channel",
        "add",
        "fb",
        "--platform",
        "facebook",
        "--page-id",
        "100200300400500",
        "--token",
        TOKEN,
    )
    data = json.loads(
        afisha.ok(
            "post",
            "add",
            "--text",
            "Fair",
            "--image",
            str(image),
            "--channels",
            "news,fb",
            "--at",
            "now",
            "--json",
        ).output
    )
    assert [p["channel"] for p in data["publications"]] == ["news", "fb"]
    assert data["media"][0]["width"] == 800
    shown = afisha.ok("post", "show", str(data["id"])).output
    assert "Fair" in shown
    assert "fb" in shown
    assert "cancelled post" in afisha.ok("post", "cancel", str(data["id"])).output
    assert (
        json.loads(afisha.ok("post", "show", str(data["id"]), "--json").output)["status"]
        == "cancelled"
    )


def test_events_queue_announcement_and_reminders(afisha: Afisha) -> None:
    day = local_date(20)
    event_id = afisha.ok(
        "event",
        "add",
        "--title",
        "Poetry evening",
        "--starts",
        f"{day} 18:00",
        "--place",
        "Hall",
        "--channels",
        "news",
        "--reminders",
        "7d,1d,2h",
    ).output.strip()
    events = json.loads(afisha.ok("event", "list", "--json").output)
    assert events[0]["reminders"] == ["7d", "1d", "2h"]
    kinds = [(p["kind"], p["offset"]) for p in events[0]["publications"]]
    assert kinds == [
        ("announcement", None),
        ("reminder", "7d"),
        ("reminder", "1d"),
        ("reminder", "2h"),
    ]
    assert events[0]["publications"][2]["due_local"].endswith("18:00 +05")
    afisha.ok("event", "cancel", event_id)
    status = json.loads(afisha.ok("status", "--json").output)
    assert status["queued"] == 0
    assert status["by_state"] == {"cancelled": 4}


def test_staff_and_channel_management(afisha: Afisha) -> None:
    afisha.ok("staff", "add", "123456", "--name", "Aigerim", "--role", "editor", "--lang", "kk")
    assert json.loads(afisha.ok("staff", "list", "--json").output) == [
        {"telegram_user_id": 123456, "name": "Aigerim", "role": "editor", "language": "kk"}
    ]
    afisha.ok("staff", "remove", "123456")
    assert json.loads(afisha.ok("staff", "list", "--json").output) == []
    afisha.ok("channel", "pause", "news")
    assert json.loads(afisha.ok("status", "--json").output)["paused_channels"] == ["news"]
    afisha.ok("channel", "resume", "news")
    afisha.ok("channel", "remove", "news")
    assert json.loads(afisha.ok("channel", "list", "--json").output) == []


def bad_inputs(tmp: Path) -> list[tuple[list[str], dict[str, str], str]]:
    text_file = tmp / "not-an-image.jpg"
    text_file.write_text("hello")
    bmp = make_image(tmp / "poster.tiff", fmt="TIFF")
    future = f"{local_date(5)} 10:00"
    post = ["post", "add", "--text", "x", "--channels", "news", "--at"]
    return [
        (
            ["post", "add", "--text", "x", "--channels", "nope", "--at", future],
            {},
            "unknown channel 'nope'",
        ),
        ([*post, "2020-01-01 10:00"], {}, "is in the past"),
        (
            [*post, "next tuesday-ish 10:00"],
            {},
            "cannot read the time 'next tuesday-ish 10:00': write now, tomorrow 10:00, "
            "friday 18:30, 2026-12-01 10:00 (local time), 2026-12-01T10:00+05:00 or next-slot",
        ),
        ([*post, future, "--image", str(tmp / "missing.jpg")], {}, "does not exist"),
        ([*post, future, "--image", str(text_file)], {}, "is not an image Afisha can read"),
        ([*post, future, "--image", str(bmp)], {}, "is a TIFF image"),
        (["staff", "add", "5", "--name", "A", "--role", "boss"], {}, "unknown role 'boss'"),
        (
            ["channel", "add", "news", "--platform", "telegram", "--chat-id", "-100500"],
            {},
            "'news' already exists",
        ),
        ([*post, future], {"AFISHA_TIMEZONE": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        (
            [
                "channel",
                "add",
                "fb",
                "--platform",
                "facebook",
                "--page-id",
                "100200300",
                "--token",
                TOKEN,
            ],
            {"AFISHA_SECRET_KEY": ""},
            "no secret key is configured",
        ),
        (
            ["channel", "add", "fb", "--platform", "facebook", "--page-id", "100200300"],
            {},
            "needs an access token",
        ),
        (
            ["channel", "add", "tg2", "--platform", "telegram", "--chat-id", "news channel"],
            {},
            "neither a number",
        ),
        (["post", "cancel", "999"], {}, "no post has id 999"),
        (
            ["staff", "add", "5", "--name", "A", "--role", "editor", "--lang", "de"],
            {},
            "unsupported language 'de'",
        ),
        (
            [
                "event",
                "add",
                "--title",
                "T",
                "--starts",
                future,
                "--channels",
                "news",
                "--reminders",
                "3x",
            ],
            {},
            "reminder offset '3x'",
        ),
        (
            [
                "event",
                "add",
                "--title",
                "T",
                "--starts",
                future,
                "--channels",
                "news",
                "--reminders",
                "1d,99999w",
            ],
            {},
            "'99999w' is too far ahead: a reminder goes at most 365 days (365d) before",
        ),
        (
            ["post", "add", "--channels", "news", "--at", future],
            {},
            "exactly one of --text or --text-file",
        ),
    ]


def test_bad_input_exits_2_with_a_reason_and_writes_nothing(
    afisha: Afisha, database_url: str, tmp_path: Path
) -> None:
    for args, env, message in bad_inputs(tmp_path):
        before = dump(database_url)
        result = afisha(*args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
        assert dump(database_url) == before, args
    assert not (tmp_path / "media").exists()


def test_unreachable_database_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["status"], env={"AFISHA_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"}
    )
    assert result.exit_code == 1
    assert "cannot open the database" in result.stderr


def test_no_token_in_output_logs_or_database_file(
    afisha: Afisha, database_url: str, tmp_path: Path
) -> None:
    env = {"AFISHA_TELEGRAM_TOKEN": "7000000001:AAbotTokenThatMustNeverLeak_0123456789"}
    outputs = [
        afisha(
            "--debug",
            "channel",
            "add",
            "fb",
            "--platform",
            "facebook",
            "--page-id",
            "100200300400500",
            "--token",
            TOKEN,
            env=env,
        ),
        afisha("--debug", "channel", "list", "--json", env=env),
        afisha("--debug", "config", "show", env=env),
        afisha("--debug", "config", "show", "--json", env=env),
        afisha(
            "--debug",
            "channel",
            "add",
            "fb",
            "--platform",
            "facebook",
            "--page-id",
            "1002003",
            "--token",
            TOKEN,
            env=env,
        ),
    ]
    assert outputs[0].exit_code == 0
    assert outputs[-1].exit_code == 2
    for result in outputs:
        assert TOKEN not in result.output
        assert env["AFISHA_TELEGRAM_TOKEN"] not in result.output
        assert afisha.env["AFISHA_SECRET_KEY"] not in result.output
    assert "******** (set)" in outputs[2].output
    if database_url.startswith("sqlite"):
        raw = Path(database_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(database_url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert TOKEN.encode() not in raw
    assert all(TOKEN not in repr(rows) for rows in dump(database_url).values())


def test_init_writes_settings_with_a_key_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["init", "--timezone", "Europe/Vilnius", "--language", "lt"], env={}
    )
    assert result.exit_code == 0, result.output
    settings = (tmp_path / "afisha.toml").read_text()
    assert 'timezone = "Europe/Vilnius"' in settings
    assert "secret_key" in settings
    assert (tmp_path / "afisha.toml").stat().st_mode & 0o077 == 0
    assert (tmp_path / "afisha.db").exists()
    again = runner.invoke(cli, ["init"], env={})
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    shown = runner.invoke(cli, ["config", "show", "--json"], env={"AFISHA_LANGUAGE": "ru"})
    data = json.loads(shown.stdout)
    assert data["settings"]["language"] == "ru"
    assert data["source"]["language"] == "AFISHA_LANGUAGE"
    assert data["settings"]["timezone"] == "Europe/Vilnius"
    assert data["settings"]["secret_key"] == "******** (set)"


def test_sandbox_takes_instagram_processing_times() -> None:
    from afisha.sandboxing import make_sandbox
    from sandbox.graph_state import DEFAULT_CAROUSEL_PROCESSING, graph_state

    sandbox = make_sandbox(0, "", {"image_seconds": 12.5, "carousel_seconds": None})
    refused = CliRunner().invoke(cli, ["sandbox", "--ig-carousel-seconds", "-1"])

    assert graph_state(sandbox).processing() == {
        "image_seconds": 12.5,
        "carousel_seconds": DEFAULT_CAROUSEL_PROCESSING,
        "fail_next": 0,
    }
    assert refused.exit_code == 2
    assert "--ig-carousel-seconds" in refused.output


def test_post_show_says_when_a_publication_went_out_late_and_why(
    afisha: Afisha, database_url: str
) -> None:
    from sqlalchemy import create_engine, update

    from content.storage.models import Publication

    added = afisha.ok(
        "post", "add", "--text", "Late", "--channels", "news", "--at", "now", "--json"
    )
    data = json.loads(added.output)
    late = {"seconds": 7.5, "reason": "Instagram was still processing the images"}
    database = create_engine(database_url)
    with database.begin() as connection:
        connection.execute(update(Publication).values(progress={"late": late}))
    database.dispose()

    shown = json.loads(afisha.ok("post", "show", str(data["id"]), "--json").output)

    assert [p["late"] for p in shown["publications"]] == [late]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["fb", "--platform", "facebook", "--page-id", "123", "--token", TOKEN],
            "Facebook Page id '123' must be 5 to 20 digits (0-9), e.g. 100200300400500",
        ),
        (
            ["fb", "--platform", "facebook", "--page-id", "1" * 21, "--token", TOKEN],
            "must be 5 to 20 digits",
        ),
        (
            ["ig", "--platform", "instagram", "--ig-user-id", "my_library", "--token", TOKEN],
            "Instagram user id 'my_library' must be 5 to 20 digits (0-9), e.g. 17841400000000000",
        ),
        (
            [
                "ig",
                "--platform",
                "instagram",
                "--ig-user-id",
                "17841400000000000",
                "--token",
                TOKEN,
                "--page-id",
                "12",
            ],
            "Facebook Page id '12' must be 5 to 20 digits",
        ),
        (  # Arabic-Indic digits are digits to Python, not to the Graph API
            ["fb", "--platform", "facebook", "--page-id", "١٢٣٤٥٦", "--token", TOKEN],
            "must be 5 to 20 digits (0-9)",
        ),
        (
            ["tg", "--platform", "telegram", "--chat-id", "@abc"],
            "Telegram chat id '@abc' is neither a number of up to 20 digits (0-9, e.g. "
            "-1001234567890) nor an @username (@, then 4 to 32 letters, digits or _, "
            "beginning with a letter)",
        ),
        (["tg", "--platform", "telegram", "--chat-id", "-" + "1" * 21], "up to 20 digits"),
        (["tg", "--platform", "telegram", "--chat-id", "-١٠٠٥"], "up to 20 digits (0-9"),
    ],
)
def test_channel_ids_are_refused_with_the_rule_they_break(
    afisha: Afisha, database_url: str, args: list[str], reason: str
) -> None:
    before = dump(database_url)
    result = afisha("channel", "add", *args)
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert dump(database_url) == before


def test_a_text_over_one_telegram_message_is_queued_as_one_publication(
    afisha: Afisha, tmp_path: Path
) -> None:
    story = tmp_path / "story.txt"
    story.write_text("\n\n".join(["The library turns fifty. " * 80] * 3))  # 6000 characters
    post_id = afisha.ok(
        "post", "add", "--text-file", str(story), "--channels", "news", "--at", "now"
    ).output.strip()
    shown = json.loads(afisha.ok("post", "show", post_id, "--json").output)
    assert [p["channel"] for p in shown["publications"]] == ["news"]  # one publication
