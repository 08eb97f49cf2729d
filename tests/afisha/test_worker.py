"""`afisha worker --once` publishes through the real clients to the sandbox, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from afisha.cli import cli
from content.secrets import generate_key
from sandbox.runner import SandboxThread
from tests.support.images import make_image


def test_worker_once_publishes_each_post_once_on_every_platform(
    sandbox: SandboxThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fixtures = sandbox.sandbox.fixtures
    page, account = fixtures.pages[0], fixtures.instagram[0]
    env = {
        "AFISHA_DATABASE_URL": f"sqlite:///{tmp_path}/afisha.db",
        "AFISHA_SECRET_KEY": generate_key(),
        "AFISHA_TIMEZONE": "Asia/Almaty",
        "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        "AFISHA_TELEGRAM_TOKEN": fixtures.bot_token,
        "AFISHA_TELEGRAM_API_URL": sandbox.base_url,
        "AFISHA_GRAPH_API_URL": f"{sandbox.base_url}/graph",
    }
    runner = CliRunner()

    def afisha(*args: str) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    afisha("channel", "add", "tg", "--platform", "telegram", "--chat-id", str(fixtures.chats[0].id))
    afisha(
        "channel",
        "add",
        "fb",
        "--platform",
        "facebook",
        "--page-id",
        page.id,
        "--token",
        page.access_token,
    )
    afisha(
        "channel", "add", "ig", "--platform", "instagram", "--ig-user-id", account.id,
        "--token", account.access_token, "--page-id", account.page_id,
    )  # fmt: skip
    poster = make_image(tmp_path / "poster.jpg", (1080, 1350))
    afisha(
        "post",
        "add",
        "--text",
        "Book fair on Saturday",
        "--image",
        str(poster),
        "--channels",
        "tg,fb,ig",
        "--at",
        "now",
    )
    afisha("post", "add", "--text", "Later", "--channels", "tg", "--at", "2099-01-01 10:00")
    report = json.loads(afisha("worker", "--once", "--json"))
    assert report["attempts"] == 3
    again = json.loads(afisha("worker", "--once", "--json"))
    assert again["attempts"] == 0
    items = [(i.platform, i.text) for i in sandbox.sandbox.ledger.items]
    assert sorted(items) == [
        ("facebook", "Book fair on Saturday"),
        ("instagram", "Book fair on Saturday"),
        ("telegram", "Book fair on Saturday"),
    ]
    posts = json.loads(afisha("post", "list", "--json"))
    published = {p["channel"]: p for p in posts[1]["publications"]}
    assert {p["state"] for p in published.values()} == {"sent"}
    assert published["tg"]["remote_id"] is not None
    assert posts[1]["status"] == "done"
    assert posts[0]["publications"][0]["state"] == "scheduled"
