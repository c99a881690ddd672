"""CSV and XLSX exports of the skill matrix: the page's numbers, as numbers, with a header saying
when, by whom and with which filter they were exported. Written through `lms.common.exports`,
which neutralises text that a spreadsheet would run as a formula."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

from lms.common import exports
from lms.i18n import _, _l
from lms.skills.matrix import Matrix

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# The table's columns: these for each person, then two for each competence. The annex of the staff
# council's agreement lists them from here (lms/admin/annex.py), so it names what is exported.
PERSON_COLUMNS = (_l("Personnel number"), _l("Family name"), _l("Given name"), _l("Department"), _l("Job role"))
COMPETENCE_COLUMNS = (_l("%(code)s current"), _l("%(code)s target"))  # the current and the target level


def header_rows(exported_at: datetime, exported_by: str, filter_text: str) -> list[list]:
    """What the file is, when, by whom and with which filter, in the reader's language."""
    return [
        [_("Lernpfad skill matrix")],
        [_("Exported at"), exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")],
        [_("Exported by"), exported_by],
        [_("Filter"), filter_text],
        [],
    ]


def table_rows(matrix: Matrix) -> Iterator[list]:
    """One row per person, two columns (current, target) per competence; no target → empty."""
    columns = [str(column) for column in PERSON_COLUMNS]
    for competence in matrix.competences:
        columns += [str(column) % {"code": competence.code} for column in COMPETENCE_COLUMNS]
    yield columns
    for person in matrix.people:
        row: list[str | int | None] = [
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


def csv_bytes(header: list[list], matrix: Matrix) -> bytes:
    return exports.csv_bytes([*header, *table_rows(matrix)])


def xlsx_bytes(header: list[list], matrix: Matrix) -> bytes:
    from openpyxl import Workbook  # heavy; imported only when an XLSX is written

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Skill matrix"))
    for row in [*header, *table_rows(matrix)]:
        exports.append_xlsx_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
