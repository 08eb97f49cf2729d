"""The monthly report as PDF, XLSX and CSV: every total is a direct sum over the snapshots, and
n/a reads as n/a."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from bot.reports.files import monthly_report_file
from content.analytics.export_csv import COLUMNS
from content.analytics.labels import number
from content.analytics.report import ReportFormat
from content.storage.models import EngagementSnapshot
from tests.content.analytics.conftest import (
    MONTH,
    NOVEMBER,
    OCTOBER,
    STORED,
    Seeded,
    central,
    raw,
    reference,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")


@pytest.mark.skipif(not POPPLER, reason="pdftoppm/pdftotext missing: apt-get install poppler-utils")
def test_pdf_renders_its_pages_charts_and_na(seeded: Seeded, tmp_path: Path) -> None:
    with seeded.sessions() as session:
        name, pdf = monthly_report_file(
            session, central(session), MONTH, NOW, ReportFormat.PDF, "ru"
        )
        expected = reference(raw(session, NOVEMBER))
    assert name == "afisha-report-2026-11-ru.pdf"
    path = tmp_path / name
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for page in pages:
        with Image.open(page) as image:
            assert image.size[0] > 300
            # A rendered page is not blank: charts and tables put many colours on it.
            assert len(image.convert("RGB").getcolors(1 << 16) or []) > 50
    assert pdf.count(b"/Subtype /Image") >= 3  # the three charts
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Central Library: отчёт о вовлечённости, Ноябрь 2026" in text
    assert "н/д" in text  # the Telegram channel's reach
    for metric in ("interactions", "reach", "views"):
        # pdftotext gives the no-break space between thousands as a plain one.
        assert number(expected[metric][0], "ru").replace("\xa0", " ") in text, metric
    assert f"{expected['interactions'][1]} / {expected['publications']}" in text
    assert "https://example.org/" not in text  # links are links, not printed URLs


def test_xlsx_reads_back_with_the_same_totals(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        _name, data = monthly_report_file(
            session, central(session), MONTH, NOW, ReportFormat.XLSX, "lt"
        )
        rows = raw(session, NOVEMBER)
        expected, before = reference(rows), reference(raw(session, OCTOBER))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "Suvestinė",
        "Kanalai",
        "Populiariausi įrašai",
        "Renginiai skaičiais",
        "Mėnesio renginiai",
        "Renginių įrašai",
        "Pagal dienas",
        "Geriausias laikas skelbti",
    ]
    summary = {row[0]: row for row in book["Suvestinė"].iter_rows(min_row=2, values_only=True)}
    assert summary["Publikacijos"][1:3] == (expected["publications"], before["publications"])
    names = {"interactions": "Sąveikos", "reach": "Aprėptis", "saves": "Išsaugojimai"}
    for metric, label in names.items():
        value, known = expected[metric]
        assert summary[label][1] == value
        assert summary[label][2] == before[metric][0]
        assert summary[label][3] == value - before[metric][0]
        assert summary[label][5] == known
    assert summary["Įsitraukimo rodiklis"][1] == pytest.approx(expected["rate"])
    channels = book["Kanalai"]
    header = [c.value for c in channels[1]]
    for row in channels.iter_rows(min_row=2, values_only=True):
        mine = reference([r for r in rows if r.channel.name == row[0]])
        assert row[header.index("Sąveikos")] == (mine["interactions"][0] or "n/d")
        assert row[header.index("Aprėptis")] == (mine["reach"][0] or "n/d")
    assert "n/d" in [c.value for c in channels["A"]] or any(
        v == "n/d" for row in channels.iter_rows(values_only=True) for v in row
    )
    daily = book["Pagal dienas"]
    total = sum(
        v for v in (r[3] for r in daily.iter_rows(min_row=2, values_only=True)) if v != "n/d"
    )
    assert total == expected["interactions"][0]
    top = book["Populiariausi įrašai"]
    assert top.cell(row=2, column=1).value == 1
    assert str(top.cell(row=2, column=top.max_column).hyperlink.target).startswith("https://")


def test_csv_has_every_snapshot_of_the_month(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        name, data = monthly_report_file(
            session, central(session), MONTH, NOW, ReportFormat.CSV, "kk"
        )
        sent = {r.publication.id for r in raw(session, NOVEMBER)}
        snapshots = session.scalars(
            select(EngagementSnapshot).where(EngagementSnapshot.publication_id.in_(sent))
        ).all()
        expected = reference(raw(session, NOVEMBER))
    assert name.endswith("-kk.csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert sorted(int(r["snapshot_id"]) for r in rows) == sorted(s.id for s in snapshots)
    assert any(r["reach"] == "д/ж" for r in rows)
    assert "0" not in {r["saves"] for r in rows if r["platform"] == "telegram"}
    # The totals again, from the file alone: the latest row of each publication.
    latest: dict[str, dict[str, str]] = {}
    for row in rows:
        key = (row["collected_at"], int(row["snapshot_id"]))
        seen = latest.get(row["publication_id"])
        if seen is None or key > (seen["collected_at"], int(seen["snapshot_id"])):
            latest[row["publication_id"]] = row
    for metric in STORED:
        known = [int(r[metric]) for r in latest.values() if r[metric] != "д/ж"]
        assert (sum(known) if known else None, len(known)) == expected[metric]
