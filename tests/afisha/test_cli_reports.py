"""`afisha report` and `afisha stats` as people and scripts run them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from afisha.cli import cli
from content.analytics.periods import Period
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.secrets import generate_key
from tests.content.analytics.conftest import raw, reference, seed


class Afisha:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(cli, list(args), env=self.env)


@pytest.fixture
def afisha(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Afisha:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(database_url)
    upgrade(engine)
    seed(session_factory(engine), random.Random(20261101))
    engine.dispose()
    return Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_ORGANIZATION": "Central Library",
            "AFISHA_TIMEZONE": "Europe/Vilnius",
            "AFISHA_LANGUAGE": "ru",
        }
    )


def test_report_writes_the_default_file_name_in_the_working_directory(
    afisha: Afisha, tmp_path: Path
) -> None:
    result = afisha("report", "--month", "2026-11", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    path = tmp_path / "afisha-report-2026-11-ru.xlsx"
    assert result.output.strip() == f"wrote {path.name}"
    assert load_workbook(path).sheetnames[0] == "Итоги"


def test_report_output_language_and_formats(afisha: Afisha, tmp_path: Path) -> None:
    target = tmp_path / "out" / "november.csv"
    target.parent.mkdir()
    result = afisha(
        "report", "--month", "2026-11", "--format", "csv", "--lang", "lt", "--output", str(target)
    )
    assert result.exit_code == 0, result.output
    assert "n/d" in target.read_text(encoding="utf-8-sig")
    assert not list(tmp_path.glob("afisha-report-*"))
    result = afisha("report", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "afisha-report-2026-11-ru.pdf").read_bytes().startswith(b"%PDF")


def test_report_bad_input_exits_2_with_a_message(afisha: Afisha) -> None:
    for args, message in (
        (["--month", "2026-13"], "cannot read the month '2026-13': write it as YYYY-MM"),
        (["--month", "november"], "cannot read the month 'november'"),
        (["--month", "2026-11", "--lang", "de"], "unsupported language 'de'"),
        (
            ["--month", "2026-11", "--format", "csv", "--output", "/nonexistent/r.csv"],
            "cannot write",
        ),
    ):
        result = afisha("report", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output


def test_stats_json_totals_equal_sums_over_the_snapshots(afisha: Afisha, database_url: str) -> None:
    result = afisha("stats", "--period", "60d", "--json")
    now = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            expected = reference(raw(session, Period(now - timedelta(days=60), now)))
    finally:
        engine.dispose()
    assert data["totals"]["publications"] == expected["publications"]
    for metric in ("interactions", "reach", "saves"):
        found = data["totals"][metric]
        assert (found["value"], found["known"]) == expected[metric]
    assert {c["channel"] for c in data["channels"]} == {"news", "page", "insta"}


def test_stats_text_and_bad_period(afisha: Afisha) -> None:
    result = afisha("stats", "--period", "8w", "--lang", "kk")
    assert result.exit_code == 0, result.output
    assert "Арналар бойынша:" in result.output
    result = afisha("stats", "--period", "a month")
    assert result.exit_code == 2
    assert "cannot read the period 'a month'" in result.output
