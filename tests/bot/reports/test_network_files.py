"""The network report's PDF and XLSX at a region's size: 300 libraries with long Kazakh and
Lithuanian names run over pages with the header repeated, no name or header word cut."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.reports.network_pdf import render_network_pdf
from bot.reports.network_xlsx import render_network_xlsx
from tests.bot.reports.network_fixture import HEAD, big_network

POPPLER = shutil.which("pdftotext")


@pytest.mark.skipif(not POPPLER, reason="pdftotext missing: apt-get install poppler-utils")
@pytest.mark.parametrize(
    ("lang", "header", "total"),
    [("kk", "Кітапхана", "Бүкіл желі"), ("lt", "Biblioteka", "Visas tinklas")],
)
def test_300_libraries_run_over_pages_with_the_header_on_each(
    tmp_path: Path, lang: str, header: str, total: str
) -> None:
    report = big_network()
    path = tmp_path / "network.pdf"
    path.write_bytes(render_network_pdf(report, lang))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 10
    # Every page of the libraries' table starts with its header; no header word is broken.
    table_pages = [p for p in pages[1:] if "Village library" in p]
    assert len(table_pages) >= 10
    for page in table_pages:
        first_lines = "\n".join(page.strip().splitlines()[:4])
        assert header in first_lines
    assert "Жарияланымдар" in text if lang == "kk" else "Komentarai" in text
    # Every library is there, once, in order; the network's total after the last one.
    flat = " ".join(text.split())
    positions = [flat.find(f"Village library {n} ") for n in range(2, 301, 3)]
    assert all(p >= 0 for p in positions)
    assert positions == sorted(positions)
    assert flat.find(total, positions[-1]) > positions[-1]
    for number in (4, 151, 298):  # long Kazakh names wrap, whole
        assert f"№{number}" in flat
    assert flat.count(HEAD) >= len(pages)  # the footer names the network on every page


def test_the_workbook_prints_landscape_with_the_header_on_every_page() -> None:
    book = load_workbook(io.BytesIO(render_network_xlsx(big_network(), "lt")))
    assert book.sheetnames == ["Suvestinė", "Bibliotekos", "Populiariausi įrašai"]
    sheet = book["Bibliotekos"]
    assert sheet.max_row == 1 + 300 + 1  # header, libraries, the network's total
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.freeze_panes == "B2"
    assert sheet["A4"].alignment.wrap_text
    assert sheet.column_dimensions["A"].width <= 60
    last = sheet[sheet.max_row]
    assert last[0].value == "Visas tinklas"
    assert last[0].font.bold
    # The total row is the sum of the libraries' (numbers, so the spreadsheet adds them too).
    for column in (3, 5, 10):
        figures = [sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row)]
        assert sum(figures) == sheet.cell(row=sheet.max_row, column=column).value
