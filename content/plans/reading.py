"""Reading a plan's rows from xlsx (openpyxl) or csv, as text cells under lower-case headers."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from content.errors import InvalidInput

MAX_ROWS = 2000


@dataclass(frozen=True)
class SheetRow:
    """One data row; `number` is the row number a person sees in the spreadsheet (header is 1)."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[SheetRow]


def _text(value: object) -> str:
    """A cell as the text a person typed: dates as YYYY-MM-DD, times as HH:MM."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet(table: Sequence[Sequence[object]]) -> Sheet:
    if not table or not any(_text(v) for v in table[0]):
        raise InvalidInput("the file has no header row: start from `afisha import --template`")
    headers = [_text(v).lower().replace(" ", "_") for v in table[0]]
    rows = []
    for index, values in enumerate(table[1:], start=2):
        cells = {h: _text(v) for h, v in zip(headers, values, strict=False) if h}
        if any(cells.values()):
            rows.append(SheetRow(index, cells))
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            "the file has {count} rows; import at most {limit} at a time",
            count=len(rows),
            limit=MAX_ROWS,
        )
    return Sheet([h for h in headers if h], rows)


def read_xlsx(data: bytes) -> Sheet:
    """The first worksheet of an .xlsx workbook."""
    # Imported here: openpyxl weighs nearly 20 MB, and the iCalendar feed that `afisha run`
    # serves reaches this module without ever reading a workbook.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise InvalidInput("the file is not an Excel workbook (.xlsx) Afisha can read") from None
    try:
        worksheet = workbook.worksheets[0]
        table: list[Sequence[object]] = list(worksheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    return _sheet(table)


def read_csv(data: bytes) -> Sheet:
    """A UTF-8 csv file separated by commas, semicolons (Excel in many locales) or tabs."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput('the csv file is not UTF-8 text: save it as "CSV UTF-8"') from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return _sheet(table)


def read_sheet(data: bytes, filename: str) -> Sheet:
    """Rows of an .xlsx or .csv file, chosen by the file name's extension."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".csv"):
        return read_csv(data)
    raise InvalidInput("cannot import {name}: send an .xlsx, .csv or .ics file", name=filename)
