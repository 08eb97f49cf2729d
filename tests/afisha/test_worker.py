"""`afisha worker --once` publishes through the real clients to the sandbox, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from afisha.cli import cli
from content.storage.secrets import generate_key
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
    # Ids and tokens hold no spaces: each command reads as one line would be typed.
    afisha(
        *f"channel add fb --platform facebook --page-id {page.id} "
        f"--token {page.access_token}".split()
    )
    afisha(
        *f"channel add ig --platform instagram --ig-user-id {account.id} "
        f"--token {account.access_token} --page-id {account.page_id}".split()
    )
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


def test_sigterm_stops_a_worker_cleanly_and_frees_the_database(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {
        **os.environ,
        "AFISHA_DATABASE_URL": f"sqlite:///{tmp_path}/afisha.db",
        "AFISHA_SECRET_KEY": generate_key(),
    }
    command = [sys.executable, "-m", "afisha", "worker"]
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    ) as worker:
        try:
            assert worker.stderr is not None
            for line in worker.stderr:  # wait until it is up, without sleeping blindly
                if "started" in line:
                    break
            second = subprocess.run(
                command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
            )
            assert second.returncode == 2
            assert "already running on this SQLite database" in second.stderr
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            worker.kill()
    once = subprocess.run(
        [*command, "--once"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert once.returncode == 0, once.stderr  # the lock went with the stopped worker
