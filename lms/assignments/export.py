"""CSV and XLSX exports of the compliance report: the page's figures, as numbers, with a header
saying when, by whom and with which filter they were exported. Aggregates only: a hidden row is
exported without figures, as on the page. Written through `lms.common.exports`, which neutralises
text that a spreadsheet would run as a formula."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

from lms.assignments.reports import Figures, Hidden, Report
from lms.common import exports
from lms.i18n import _, _l

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# The table's columns; the annex of the staff council's agreement lists them from here
# (lms/admin/annex.py), so it names what is exported.
TABLE_COLUMNS = (
    _l("Course"),
    _l("Course key"),
    _l("Department code"),
    _l("Department"),
    _l("Assigned"),
    _l("Completed"),
    _l("Open"),
    _l("Overdue"),
    _l("Exempted"),
    _l("Completion rate (%)"),
    _l("Note"),
)


def header_rows(exported_at: datetime, exported_by: str, filter_text: str, minimum: int) -> list[list]:
    """What the file is, when, by whom and with which filter, in the reader's language."""
    return [
        [_("Lernpfad compliance report")],
        [_("Exported at"), exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")],
        [_("Exported by"), exported_by],
        [_("Filter"), filter_text],
        [
            _("Note"),
            _(
                "Departments with fewer than %(n)d assigned people are shown without figures, and so are as "
                "many others as it takes that the hidden ones cannot be worked out from the total.",
                n=minimum,
            ),
        ],
        [],
    ]


def _figures(figures: Figures) -> list[int | None]:
    return [figures.assigned, figures.completed, figures.open, figures.overdue, figures.exempted, figures.percent]


def _hidden_text(hidden: Hidden, minimum: int) -> str:
    if hidden == Hidden.SMALL:
        return _("fewer than %(n)d", n=minimum)
    return _("hidden so that a smaller group cannot be worked out")


def table_rows(report: Report) -> Iterator[list]:
    """One row per course and department, then the course's total; numbers stay numbers."""
    yield [str(column) for column in TABLE_COLUMNS]
    blank: list[int | None] = [None] * 6
    for block in report.courses:
        course = [block.course.title, block.course.slug]
        for row in block.rows:
            department = [row.department.code, row.department.name] if row.department else ["", _("No department")]
            if row.hidden:
                yield [*course, *department, *blank, _hidden_text(row.hidden, report.minimum)]
            else:
                yield [*course, *department, *_figures(row.figures), ""]
        if block.total_hidden:
            yield [*course, "", _("Total"), *blank, _hidden_text(Hidden.SMALL, report.minimum)]
        else:
            yield [*course, "", _("Total"), *_figures(block.total), ""]


def csv_bytes(header: list[list], report: Report) -> bytes:
    return exports.csv_bytes([*header, *table_rows(report)])


def xlsx_bytes(header: list[list], report: Report) -> bytes:
    from openpyxl import Workbook  # heavy; imported only when an XLSX is written

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Compliance report"))
    for row in [*header, *table_rows(report)]:
        exports.append_xlsx_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
