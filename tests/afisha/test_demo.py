"""`afisha demo` seeds a library against a live sandbox and runs the engine, from nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from afisha.cli import cli


def test_demo_seeds_staff_channels_posts_and_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--no-keep-running", "--port", "0"], env={})
    assert result.exit_code == 0, result.output
    assert "Sandbox: http://127.0.0.1:" in result.output
    config = ["--config", "demo/afisha.toml"]
    channels = json.loads(runner.invoke(cli, [*config, "channel", "list", "--json"]).stdout)
    assert sorted(c["platform"] for c in channels) == ["facebook", "instagram", "telegram"]
    posts = json.loads(runner.invoke(cli, [*config, "post", "list", "--json"]).stdout)
    assert len(posts) == 3
    # The first post was due at once: the engine's pass published it on both its channels.
    assert sorted(p["status"] for p in posts) == ["done", "queued", "queued"]
    for platform in ("telegram", "facebook", "instagram"):
        assert f"published on {platform}" in result.output
    events = json.loads(runner.invoke(cli, [*config, "event", "list", "--json"]).stdout)
    assert events[0]["publications"][0]["kind"] == "announcement"
    # Running it again starts afresh instead of failing on the old data.
    assert runner.invoke(cli, ["demo", "--no-keep-running", "--port", "0"], env={}).exit_code == 0
