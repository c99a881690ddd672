"""CSV and XLSX exports of the skill matrix: the page's numbers, as numbers, with a header saying
when, by whom and with which filter they were exported."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from openpyxl import Workbook

from lms.skills.matrix import Matrix

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def header_rows(exported_at: datetime, exported_by: str, filter_text: str) -> list[list]:
    return [
        ["Lernpfad skill matrix"],
        ["exported_at", exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")],
        ["exported_by", exported_by],
        ["filter", filter_text],
        [],
    ]


def table_rows(matrix: Matrix) -> Iterator[list]:
    """One row per person, two columns (current, target) per competence; no target → empty."""
    columns = ["personnel_number", "family_name", "given_name", "department", "job_role"]
    for competence in matrix.competences:
        columns += [f"{competence.code} current", f"{competence.code} target"]
    yield columns
    for person in matrix.people:
        row = [
            person.personnel_number or "",
            person.family_name,
            person.given_name,
            person.department.code if person.department else "",
            person.job_role.code if person.job_role else "",
        ]
        for competence in matrix.competences:
            cell = matrix.cells[person.id][competence.id]
            row += [cell.current, cell.target.level if cell.target else None]
        yield row


def write_csv(stream, header: list[list], matrix: Matrix) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerows(header)
    for row in table_rows(matrix):
        writer.writerow(["" if value is None else value for value in row])


def csv_bytes(header: list[list], matrix: Matrix) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read UTF-8 umlauts correctly
    write_csv(buffer, header, matrix)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(header: list[list], matrix: Matrix) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Skill matrix")
    for row in header:
        sheet.append(row)
    for row in table_rows(matrix):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
