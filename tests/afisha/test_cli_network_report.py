"""`afisha report network` over a head, two members and a village library."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from afisha.cli import cli
from content.storage.db import make_engine, upgrade
from content.storage.secrets import generate_key
from tests.content.analytics.network_seed import HEAD, KK, LIBRARIES, LT, VILLAGE, seed_network


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
    seed_network(engine, database_url)
    engine.dispose()
    return Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_ORGANIZATION": HEAD,
            "AFISHA_TIMEZONE": "Europe/Vilnius",
            "AFISHA_LANGUAGE": "lt",
        }
    )


def test_network_report_in_each_format(afisha: Afisha, tmp_path: Path) -> None:
    target = tmp_path / "network.csv"
    result = afisha(
        "report", "network", "--org", HEAD, "--month", "2026-11", "--format", "csv",
        "--output", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r["library"] for r in rows] == [HEAD, LT, KK, VILLAGE, "Visas tinklas"]
    assert sum(int(r["posts"]) for r in rows[:-1]) == int(rows[-1]["posts"])
    assert int(rows[-1]["posts"]) == sum(v[3] for v in LIBRARIES.values())
    result = afisha("report", "network", "--org", HEAD, "--month", "2026-11", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "afisha-network-2026-11-lt.xlsx")
    assert book.sheetnames == ["Suvestinė", "Bibliotekos", "Populiariausi įrašai"]
    result = afisha(
        "report", "network", "--org", KK, "--month", "2026-11", "--lang", "kk"
    )  # a district library heads its village library
    assert result.exit_code == 0, result.output
    assert (tmp_path / "afisha-network-2026-11-kk.pdf").read_bytes().startswith(b"%PDF")


def test_network_report_bad_input_exits_2_and_writes_nothing(
    afisha: Afisha, tmp_path: Path
) -> None:
    for args, message in (
        (["--org", LT, "--month", "2026-11"], "has no member libraries"),
        (["--org", "Nowhere", "--month", "2026-11"], "no organisation is named Nowhere"),
        (["--month", "2026-11"], "there are several organisations; choose one with --org"),
        (["--org", HEAD, "--month", "2026-13"], "cannot read the month '2026-13'"),
        (["--org", HEAD, "--month", "2026-11", "--lang", "de"], "unsupported language 'de'"),
    ):
        result = afisha("report", "network", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    assert not list(tmp_path.glob("afisha-network-*"))


def test_the_library_report_still_reads_its_month(afisha: Afisha) -> None:
    result = afisha("report")
    assert result.exit_code == 2
    assert "--month" in result.output
