"""The audit log, for the data-protection officer."""

from flask import Blueprint, current_app, render_template, request

from lms.common import exports
from lms.common.access import roles_required
from lms.common.vocabulary import AuditAction, Role
from lms.extensions import db
from lms.privacy import services

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.app_template_global("audit_action_label")
def audit_action_label(action: str) -> str:
    """An audit entry's action in the reader's language (unknown old values as stored)."""
    return AuditAction(action).label if action in set(AuditAction) else action


@bp.get("/audit")
@roles_required(Role.DPO)
def audit_log():
    action = request.args.get("action") or None
    page = db.paginate(services.audit_log(action), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("privacy/audit_log.html", page=page, action=action, actions=AuditAction)


@bp.get("/audit.csv")
@roles_required(Role.DPO)
def audit_export():
    entries = db.session.execute(services.audit_log(request.args.get("action") or None)).scalars()
    rows = (
        [
            entry.at.isoformat(),
            entry.actor.email if entry.actor else "",
            entry.subject.email if entry.subject else "",
            entry.action,
            entry.detail,
            entry.ip_address or "",
        ]
        for entry in entries
    )
    header = ["at", "actor_email", "subject_email", "action", "detail", "ip_address"]
    return exports.download(exports.csv_bytes([header, *rows]), "text/csv; charset=utf-8", "audit-log.csv")
