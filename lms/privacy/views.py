"""The audit log, for the data-protection officer; and the record of every refused request."""

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.common import exports
from lms.common.access import public, roles_required, signed_in
from lms.common.dates import utcnow
from lms.common.text import reveal_control_characters
from lms.common.urls import local_path
from lms.common.vocabulary import AuditAction, AuditField, AuditReason, CourseOwnership, Role
from lms.extensions import db
from lms.i18n import _
from lms.people.models import User
from lms.privacy import chain, services, subject_access
from lms.privacy import notice as privacy_notice
from lms.privacy import settings as privacy_settings
from lms.privacy.forms import AuditFilterForm, NoticeReadForm

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
bp.add_app_template_global(lambda role: Role(role).label if role in set(Role) else role, "role_label")
bp.add_app_template_global(privacy_settings.setting_label, "setting_label")
bp.add_app_template_global(privacy_settings.setting_value_text, "setting_value_text")
# The privacy notice has its own blueprint: a person's confirmation of having read it is the one
# thing it writes, so the privacy blueprint (the audit log's) keeps answering GET only.
notice_bp = Blueprint("notice", __name__, url_prefix="/privacy/notice")


@bp.app_template_global("audit_action_label")
def audit_action_label(action: str) -> str:
    """An audit entry's action in the reader's language (unknown old values as stored)."""
    return AuditAction(action).label if action in set(AuditAction) else action


@bp.app_template_global("audit_field_label")
def audit_field_label(key: str) -> str:
    return AuditField(key).label if key in set(AuditField) else reveal_control_characters(key)


@bp.app_template_global("audit_value_text")
def audit_value_text(key: str, value: Any) -> str:
    """A context value as one line of text: reasons, roles and actions named in the reader's
    language, structures as `name: value` pairs, recorded input with its control characters shown."""
    if key == AuditField.REASON and value in set(AuditReason):
        return AuditReason(value).label
    if key == AuditField.ROLE and value in set(Role):
        return Role(value).label
    if key == AuditField.ROLE and value in set(CourseOwnership):
        return CourseOwnership(value).label
    if key == AuditField.ROLE and value == "removed":
        return _("removed")
    if isinstance(value, dict):
        return "; ".join(f"{name}: {audit_value_text('', item)}" for name, item in sorted(value.items()))
    if isinstance(value, list):
        return " → ".join(audit_value_text("", item) for item in value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return reveal_control_characters(str(value))


@bp.app_template_filter("reveal_controls")
def reveal_controls(text: str | None) -> str:
    return reveal_control_characters(text or "")


def asked_for() -> dict[AuditField, Any]:
    """What the current request asked for, as the structured fields of an audit entry."""
    return {AuditField.METHOD: request.method, AuditField.ENDPOINT: request.endpoint, AuditField.PATH: request.path}


def record_refused_request(_app, **_extra) -> None:
    """Every 403 a signed-in person gets is a refused attempt: logged with what was asked for.

    What the request may have changed before it was refused is rolled back; the entry is committed
    on its own, since the error page commits nothing else.
    """
    if not current_user.is_authenticated:
        return
    db.session.rollback()
    user_id = (request.view_args or {}).get("user_id")
    subject = db.session.get(User, user_id) if isinstance(user_id, int) else None
    services.record_denied(
        current_user,
        AuditReason.FORBIDDEN,
        {**asked_for(), AuditField.QUERY: request.args.to_dict()},
        request.remote_addr,
        subject=subject,
    )
    db.session.commit()


def _criteria(form: AuditFilterForm) -> services.AuditFilter:
    """The filter as the form holds it; a field that did not validate is left out, not guessed."""
    valid = form.validate()
    errors = form.errors if not valid else {}
    return services.AuditFilter(
        actor=(form.actor.data or "") if "actor" not in errors else "",
        subject=(form.subject.data or "") if "subject" not in errors else "",
        # Only a listed action: a blank-looking value (a tab) slips past Optional() as "no value".
        action=AuditAction(form.action.data) if form.action.data in set(AuditAction) else None,
        date_from=form.date_from.data if "date_from" not in errors else None,
        date_to=form.date_to.data if "date_to" not in errors else None,
        self_granted=bool(form.self_granted.data),
    )


@bp.get("/audit")
@roles_required(Role.DPO)
def audit_log():
    form = AuditFilterForm(request.args)
    criteria = _criteria(form)
    page = db.paginate(services.audit_log(criteria), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    self_granted = services.self_granted_roles()
    filter_args = {key: value for key, value in request.args.items() if key != "page"}
    html = render_template(
        "privacy/audit_log.html", page=page, form=form, self_granted=self_granted, filter_args=filter_args
    )
    # Reading the log is a look at everyone's traces: recorded too, with the filter as fields.
    services.record_event(
        current_user,
        AuditAction.VIEW_AUDIT,
        context={AuditField.FILTER: criteria.as_context()},
        ip_address=request.remote_addr,
    )
    db.session.commit()
    return html


# Every stored field, in the order the hash covers them, and the hash itself.
EXPORT_HEADER = [*chain.HASHED_COLUMNS, "entry_hash"]


@bp.get("/audit.csv")
@roles_required(Role.DPO)
def audit_export():
    criteria = _criteria(AuditFilterForm(request.args))
    entries = db.session.execute(services.audit_log(criteria)).scalars()
    body = exports.csv_bytes([EXPORT_HEADER, *(services.export_row(entry) for entry in entries)])
    services.record_event(
        current_user,
        AuditAction.EXPORT_AUDIT,
        context={AuditField.FILTER: criteria.as_context(), AuditField.FORMAT: "csv"},
        ip_address=request.remote_addr,
    )
    db.session.commit()
    return exports.download(body, "text/csv; charset=utf-8", "audit-log.csv")


@bp.get("/my-data")
@signed_in
def my_data():
    """What a person can download about themself (Art. 15 GDPR)."""
    return render_template("privacy/my_data.html")


@bp.get("/my-data.zip")
@signed_in
def my_data_download():
    today = utcnow().date()
    body = subject_access.export_zip(current_user.id, today)
    return exports.download(body, "application/zip", f"lernpfad-meine-daten-{today.isoformat()}.zip")


@bp.get("/settings")
@roles_required(Role.DPO, Role.STAFF_COUNCIL)
def settings():
    """Read-only: what the agreement with the staff council is about, as the software runs now."""
    return render_template("privacy/settings.html", settings=privacy_settings.current_settings())


@notice_bp.get("")
@public
def show():
    """The privacy notice (Art. 13 GDPR), readable before signing in (linked in every footer)."""
    return _render_notice(None)


@notice_bp.get("/after-sign-in")
@signed_in
def after_sign_in():
    """Where sign-in passes by: the notice, once, for whoever has not read its current version."""
    next_page = local_path(request.args.get("next")) or url_for("core.home")
    if privacy_notice.has_read_current(current_user):
        return redirect(next_page)
    return _render_notice(next_page)


@notice_bp.post("/read")
@signed_in
def read():
    form = NoticeReadForm()
    if not form.validate_on_submit():
        abort(400)
    privacy_notice.acknowledge(current_user)
    db.session.commit()
    flash(_("Thank you. The privacy notice stays linked at the bottom of every page."), "success")
    return redirect(local_path(form.next.data) or url_for("core.home"))


def _render_notice(next_page: str | None):
    unread = current_user.is_authenticated and not privacy_notice.has_read_current(current_user)
    return render_template(
        "privacy/notice.html",
        notice=privacy_notice.current_notice(),
        form=NoticeReadForm(formdata=None, next=next_page or "") if unread else None,
    )
