"""The HR import in the admin area (role: admin): upload → preview of the changes → confirm.

The preview is a dry run. The uploaded file waits for the confirmation in a file readable by the
app only, named by a random token and the admin's id, for at most an hour (lms/admin/hr_import.py);
the confirmation names the token, the file's SHA-256 and a fingerprint of the changes shown, and
applies only when all three still match: what is written is what the admin saw.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.admin import hr_import
from lms.admin.forms import PeopleImportCancelForm, PeopleImportConfirmForm, PeopleImportForm
from lms.admin.views import admin_only, bp
from lms.common.uploads import accepts_upload
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.people import hr_import as people_import

MAX_FILE_BYTES = 16 * 1024 * 1024  # some 100,000 people


def _upload_page(form: PeopleImportForm, plan: people_import.Plan | None = None):
    return render_template("admin/people_import.html", form=form, plan=plan, columns=people_import.COLUMNS)


def _preview(plan: people_import.Plan, confirm: PeopleImportConfirmForm, token: str, notice: str | None = None):
    confirm.token.data, confirm.sha256.data, confirm.digest.data = token, plan.sha256, plan.digest
    return render_template(
        "admin/people_import.html",
        plan=plan,
        confirm=confirm,
        cancel=PeopleImportCancelForm(formdata=None, token=token),
        labels=people_import.COLUMN_LABELS,
        needs_consent=hr_import.needs_mass_deactivation_consent(plan),
        limit=hr_import.max_deactivate_percent(),
        notice=notice,
    )


@bp.get("/people/import")
@admin_only
def people_import_form():
    return _upload_page(PeopleImportForm())


@bp.post("/people/import")
@admin_only
@accepts_upload(MAX_FILE_BYTES + 64 * 1024)
def people_import_upload():
    form = PeopleImportForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    data = form.file.data.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        form.file.errors = [_("The file is larger than %(mb)d MB.", mb=MAX_FILE_BYTES // (1024 * 1024))]
        return _upload_page(form)
    plan = people_import.read(form.file.data.filename or "upload.csv", data)
    db.session.rollback()  # a dry run: nothing was written, nothing stays loaded
    if plan.problems:
        return _refused(form, plan)
    token = hr_import.keep_upload(current_user.id, data)
    return _preview(plan, PeopleImportConfirmForm(formdata=None), token)


def _refused(form: PeopleImportForm, plan: people_import.Plan):
    count = len(plan.problems)
    form.file.errors = [
        ngettext(
            "The file has %(num)d error; nothing was imported. Correct it and upload the file again.",
            "The file has %(num)d errors; nothing was imported. Correct them and upload the file again.",
            count,
        )
    ]
    return _upload_page(form, plan)


@bp.post("/people/import/apply")
@admin_only
def people_import_apply():
    confirm = PeopleImportConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("The confirmation was incomplete or has expired. Please upload the file again."), "error")
        return redirect(url_for(".people_import_form"))
    token = confirm.token.data
    data = hr_import.kept_upload(current_user.id, token, confirm.sha256.data)
    if data is None:
        flash(_("The uploaded file is no longer available (it is kept for an hour). Please upload it again."), "error")
        return redirect(url_for(".people_import_form"))
    plan = people_import.read("upload.csv", data)
    if plan.problems:  # the departments or people changed since the preview
        db.session.rollback()
        hr_import.discard_upload(current_user.id, token)
        return _refused(PeopleImportForm(formdata=None), plan)
    if plan.digest != confirm.digest.data:
        db.session.rollback()
        return _preview(plan, confirm, token, _("The data changed since the preview. Check the changes again."))
    consent = bool(confirm.allow_mass_deactivation.data)
    if hr_import.needs_mass_deactivation_consent(plan) and not consent:
        db.session.rollback()
        confirm.allow_mass_deactivation.errors = [_("Confirm that the export is complete, or check it first.")]
        return _preview(plan, confirm, token)
    counts = hr_import.apply_import(
        current_user, plan, via="web", ip_address=request.remote_addr, allow_mass_deactivation=consent
    )
    db.session.commit()
    hr_import.discard_upload(current_user.id, token)
    flash(
        _(
            "The import was applied: %(created)d created, %(updated)d updated, %(deactivated)d deactivated, "
            "%(reactivated)d reactivated.",
            **counts,
        ),
        "success",
    )
    return redirect(url_for(".users"))


@bp.post("/people/import/cancel")
@admin_only
def people_import_cancel():
    form = PeopleImportCancelForm()
    if form.validate_on_submit():
        hr_import.discard_upload(current_user.id, form.token.data)
        flash(_("The import was cancelled; the uploaded file was deleted."), "success")
    return redirect(url_for(".people_import_form"))
