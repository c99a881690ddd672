"""Certificates for the personnel file (issue 15): the learner's PDF and the page where HR and
administrators check a certificate by its verification code (lms.learning.certificates)."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from lms.common import exports
from lms.common.access import roles_required, signed_in
from lms.common.forms import attach_errors
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.learning import certificate_pdf, certificates, services
from lms.learning.forms import CertificateCheckForm

bp = Blueprint("certificates", __name__)


@bp.get("/courses/<slug>/certificate.pdf")
@signed_in
def certificate_pdf_download(slug: str):
    """The learner's own certificate of their latest completion of the course, as PDF/A. A
    completion from before certificates gets its certificate (and code) now, once."""
    opened = services.open_course(current_user, slug, archived_too=True) or abort(404)
    if opened.completion is None:
        abort(404)
    certificate = certificates.certificate_for(opened.completion)
    body = certificate_pdf.render(
        certificate_pdf.CertificateDocument(
            certificate,
            opened.completion,
            current_user.name,
            current_app.config["TOWN_NAME"],
            certificates.verification_address(),
        )
    )
    db.session.commit()  # a certificate made just now
    return exports.download(body, "application/pdf", f"certificate-{slug}.pdf")


@bp.route("/certificates/verify", methods=["GET", "POST"])
@roles_required(Role.HR, Role.ADMIN)
def verify():
    """Enter a code, see whose certificate it is and whether it is valid. A found certificate is
    audited; a wrong code counts towards the lock against guessing (both committed)."""
    form = CertificateCheckForm()
    if not form.validate_on_submit():
        return render_template("learning/certificate_verify.html", form=form, found=None), 422 if form.errors else 200
    verification = certificates.check(current_user, form.code.data or "", request.remote_addr)
    if verification.error:
        attach_errors(form, {"code": verification.error})
    page = render_template("learning/certificate_verify.html", form=form, found=verification.found)
    db.session.commit()  # the audit entry, or the wrong code counted
    if verification.found is not None:
        return page
    return page, 429 if verification.locked_until else 422
