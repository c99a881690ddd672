"""A certificate as a PDF for the personnel file (issue 15): A4, PDF/A-2B, in the reader's language.

PDF/A (ISO 19005) is the format for archiving: fpdf2 (from 2.8.5) writes it when asked with
`enforce_compliance`, adds the sRGB output intent and the XMP metadata naming the part, and refuses
what the standard forbids, the PDF's built-in fonts among them. So the text is set in DejaVu Sans,
shipped in lms/learning/fonts/ with its licence and embedded as a subset. Part 2, level B: the
appearance is preserved; fpdf2 cannot yet tag a document's structure, which level A would need.

The page names the town, the person, the course (title and version at completion), the
competences it covers, the completion date and, where the course has one, the end of its
validity; then the verification code and the address of the page where HR checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import format_date, get_locale
from fpdf import FPDF
from fpdf.enums import Align, DocumentCompliance, XPos, YPos

from lms.common.dates import as_utc
from lms.i18n import _
from lms.learning.certificates import formatted
from lms.learning.models import Certificate, Completion

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
COMPLIANCE = DocumentCompliance.PDFA_2B
MARGIN = 22  # mm
VERIFICATION_HEIGHT = 45  # mm: the code and the notes below it
TEXT = (34, 34, 51)
MUTED = (80, 84, 102)
RULE = (0, 78, 138)


@dataclass(frozen=True)
class CertificateDocument:
    """Everything the PDF shows, read before it is drawn."""

    certificate: Certificate
    completion: Completion
    person_name: str
    town: str
    verification_url: str


def _competence_lines(certificate: Certificate) -> list[str]:
    locale = get_locale()
    title = "title_en" if locale is not None and locale.language == "en" else "title_de"
    return [
        f"{item['code']} {item.get(title) or item.get('title_de') or ''}, {_('level %(n)d', n=item['level'])}"
        for item in certificate.competences
    ]


class _Page(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", enforce_compliance=COMPLIANCE)
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.set_text_color(*TEXT)

    def line_of(self, text: str, size: float, bold: bool = False, height: float | None = None, **kwargs) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, height or size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, **kwargs)

    def fact(self, label: str, value: str) -> None:
        self.set_font(FONT, "B", 10)
        self.cell(48, 6.5, label)
        self.set_font(FONT, "", 10)
        self.multi_cell(0, 6.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())


def _metadata(pdf: FPDF, document: CertificateDocument) -> None:
    pdf.set_title(f"{_('Certificate of completion')}: {document.certificate.course_title}")
    pdf.set_subject(
        _(
            "Certificate of completion of %(name)s for the course %(course)s",
            name=document.person_name,
            course=document.certificate.course_title,
        )
    )
    pdf.set_author(document.town)
    pdf.set_creator("Lernpfad")
    pdf.set_lang(str(get_locale() or "de"))
    pdf.set_creation_date(as_utc(document.certificate.issued_at))


def _header(pdf: _Page, document: CertificateDocument) -> None:
    pdf.set_text_color(*MUTED)
    pdf.line_of(f"{document.town} · Lernpfad", 11, bold=True, align=Align.C)
    pdf.ln(2)
    pdf.rule()
    pdf.ln(18)
    pdf.set_text_color(*TEXT)


def _statement(pdf: _Page, document: CertificateDocument) -> None:
    pdf.line_of(_("Certificate of completion"), 26, bold=True, height=13, align=Align.C)
    pdf.ln(10)
    pdf.line_of(_("This is to confirm that"), 12, align=Align.C)
    pdf.ln(4)
    pdf.line_of(document.person_name, 20, bold=True, height=10, align=Align.C)
    pdf.ln(4)
    pdf.line_of(_("has successfully completed the course"), 12, align=Align.C)
    pdf.ln(4)
    pdf.line_of(document.certificate.course_title, 16, bold=True, height=8, align=Align.C)
    pdf.ln(14)


def _facts(pdf: _Page, document: CertificateDocument) -> None:
    completion, certificate = document.completion, document.certificate
    pdf.fact(_("Completed on"), format_date(as_utc(completion.completed_at), "long"))
    pdf.fact(_("Course version"), str(certificate.course_version))
    if completion.expires_at is not None:
        pdf.fact(_("Valid until"), format_date(as_utc(completion.expires_at), "long"))
    lines = _competence_lines(certificate)
    if lines:
        pdf.fact(_("Competences"), "\n".join(lines))


def _verification(pdf: _Page, document: CertificateDocument) -> None:
    pdf.set_y(max(pdf.get_y() + 12, pdf.h - MARGIN - VERIFICATION_HEIGHT))  # at the foot of the page
    pdf.rule()
    pdf.ln(6)
    pdf.line_of(_("Verification code"), 10, bold=True)
    pdf.line_of(formatted(document.certificate.code), 16, bold=True, height=9)
    pdf.ln(1)
    pdf.set_text_color(*MUTED)
    pdf.line_of(
        _(
            "The human resources department checks that this certificate is genuine and valid with this "
            "code on the page %(address)s of Lernpfad.",
            address=document.verification_url,
        ),
        9,
        height=5,
    )
    pdf.ln(3)
    pdf.line_of(
        _(
            "Issued by %(town)s with Lernpfad on %(date)s.",
            town=document.town,
            date=format_date(as_utc(document.certificate.issued_at), "long"),
        ),
        9,
        height=5,
    )
    pdf.set_text_color(*TEXT)


def render(document: CertificateDocument) -> bytes:
    """The certificate as PDF/A bytes, in the current locale (the learner's)."""
    pdf = _Page()
    _metadata(pdf, document)
    pdf.add_page()
    _header(pdf, document)
    _statement(pdf, document)
    _facts(pdf, document)
    _verification(pdf, document)
    return bytes(pdf.output())
