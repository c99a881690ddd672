"""The progress report: the printable page and its PDF, for HR, the change team, the staff
council and administrators. Aggregates only: the PDF's download is recorded, without people."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from lms.common import exports
from lms.common.access import roles_required
from lms.common.vocabulary import AuditAction, AuditField, Role
from lms.extensions import db
from lms.privacy import services as privacy
from lms.progress import pdf, texts
from lms.progress import services as progress

bp = Blueprint("progress", __name__, url_prefix="/progress")

# Those who report to the council and the staff council that co-determines, and the administrators.
REPORT_ROLES = (Role.HR, Role.CHANGE, Role.STAFF_COUNCIL, Role.ADMIN)


@bp.get("/")
@roles_required(*REPORT_ROLES)
def index():
    report = progress.report()
    return render_template("progress/index.html", report=report, texts=texts, rules=pdf.rules_text(report))


@bp.get("/report.pdf")
@roles_required(*REPORT_ROLES)
def report_pdf():
    report = progress.report()
    body = pdf.render(report)
    privacy.record_event(
        current_user,
        AuditAction.EXPORT_PROGRESS_REPORT,
        context={AuditField.FORMAT: "pdf"},
        ip_address=request.remote_addr,
    )
    db.session.commit()
    return exports.download(body, "application/pdf", f"progress-report-{report.day.isoformat()}.pdf")
