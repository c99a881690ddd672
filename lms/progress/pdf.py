"""The progress report as a PDF (fpdf2, pure Python): A4, title with the town and the day, the
sections of the page, page numbers.

The text is set in the PDF's built-in Helvetica in the Windows-1252 encoding (WinAnsi), which
holds every letter of German and its typography (ä ö ü ß – „ “ …), so no font file has to be
shipped; the few characters beyond it pass through `printable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import format_date
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from lms.i18n import _
from lms.progress import texts
from lms.progress.services import Report

ENCODING = "windows-1252"
FONT = "Helvetica"
# Characters that WinAnsi lacks but report text may hold (names of courses or departments).
_REPLACEMENTS = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "\u2011": "-", "\u202f": " ", "\u2009": " "})


def printable(text: str) -> str:
    """`text` in the characters the built-in font can show: a few mapped, any other one as "?"."""
    return text.translate(_REPLACEMENTS).encode(ENCODING, errors="replace").decode(ENCODING)


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 10, printable(_("Page %(page)d", page=self.page_no())), align="C")


def _heading(pdf: FPDF, text: str, size: int = 12) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, 7, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> None:
    pdf.set_font(FONT, size=8)
    with pdf.table(col_widths=tuple(widths), line_height=4.5, first_row_as_headings=True) as table:
        for values in (header, *rows):
            row = table.row()
            for value in values:
                row.cell(printable(value))
    pdf.ln(2)


def _targets(pdf: FPDF, report: Report) -> None:
    _heading(pdf, _("Strategy targets"))
    if not report.targets:
        _paragraph(pdf, _("There are no strategy targets of the whole administration or of large units."))
        return
    rows = [
        (
            texts.target_title(line.view.target),
            texts.unit_name(line.view.target.department),
            texts.share_text(line.today, report.minimum),
            texts.share_text(line.first, report.minimum) + f" ({texts.month_text(line.first_month)})"
            if line.first_month
            else _("no monthly figures yet"),
            texts.pace_text(line.view.pace),
        )
        for line in report.targets
    ]
    header = (_("Target"), _("Group"), _("Today"), _("First monthly figure"), _("Pace"))
    _table(pdf, header, rows, (60, 40, 30, 35, 25))


def _initiatives(pdf: FPDF, report: Report) -> None:
    _heading(pdf, _("Initiatives and readiness"))
    if not report.initiatives:
        _paragraph(pdf, _("No initiative is running."))
    for item in report.initiatives:
        _heading(pdf, item.initiative.title, size=10)
        _paragraph(pdf, _("Go-live: %(date)s", date=format_date(item.initiative.go_live, "medium")))
        rows = [
            (
                texts.unit_name(line.department) if line.department else _("The whole target group"),
                texts.share_text(line.completed, report.minimum, _("no course linked")),
                texts.share_text(line.attended, report.minimum, _("no session linked")),
                texts.share_text(line.prepared, item.survey_minimum, _("no survey yet"), answers=True),
            )
            for line in item.lines
        ]
        header = (_("Group"), _("Did all required courses"), _("Attended a session"), _("Feel prepared"))
        _table(pdf, header, rows, (70, 40, 40, 40))


def _uptake(pdf: FPDF, report: Report) -> None:
    _heading(pdf, _("Course uptake"))
    _paragraph(pdf, _("People who completed the course in the last %(months)d months.", months=report.months))
    rows = [
        (
            line.course.title,
            texts.count_text(line.people, line.shown, report.minimum),
            texts.share_text(line.share, report.minimum),
        )
        for line in report.uptake
    ]
    _table(pdf, (_("Course"), _("People"), _("Share of active staff")), rows, (100, 40, 50))
    units = [
        (texts.unit_name(line.unit.department), texts.share_text(line.share, report.minimum)) for line in report.units
    ]
    _table(pdf, (_("Unit"), _("Completed at least one course")), units, (120, 70))


def _feedback(pdf: FPDF, report: Report) -> None:
    _heading(pdf, _("Course feedback"))
    rows = [
        (
            line.course.title,
            str(line.answers) if line.shown else _("fewer than %(n)d answers", n=report.minimum),
            texts.share_text(line.helpful, report.minimum),
            texts.share_text(line.about_right, report.minimum),
        )
        for line in report.feedback
    ]
    header = (_("Course"), _("Answers"), _("Rated helpful (4 or 5)"), _("Length about right"))
    _table(pdf, header, rows, (80, 30, 40, 40))


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    pdf = _Document(format="A4")
    pdf.core_fonts_encoding = ENCODING
    title = _("Progress report of %(town)s", town=report.town)
    pdf.set_title(printable(title))
    pdf.set_creator("Lernpfad")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 9, printable(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _paragraph(pdf, _("As of %(date)s", date=format_date(report.day, "long")))
    _paragraph(pdf, rules_text(report))
    _targets(pdf, report)
    _initiatives(pdf, report)
    _uptake(pdf, report)
    _feedback(pdf, report)
    return bytes(pdf.output())


def rules_text(report: Report) -> str:
    return _(
        "Totals only, never a person: only the whole administration and units of at least %(large)d people"
        " appear, departments in the order of their codes, never ranked; shares are given as ranges of a"
        " quarter; a group of fewer than %(n)d people shows no figure.",
        large=report.large_unit,
        n=report.minimum,
    )
