"""Notifications: the bell in the header, the list, the mail settings; the outbox for administrators."""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from lms.common.access import roles_required, signed_in
from lms.common.urls import local_path
from lms.common.vocabulary import AuditAction, Role
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.notifications import mail, services
from lms.notifications.forms import MailPreferenceForm, OutboxFilterForm
from lms.notifications.mail import SETTINGS_PATH
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.privacy import services as privacy

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def notification_bell() -> dict:
    """`unread_notification_count()` for the header: asked only by a page that shows the bell."""
    return {"unread_notification_count": unread_notification_count}


def unread_notification_count() -> int:
    """The signed-in person's unread notifications: one query per request at most."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = services.unread_count(current_user)
    return g.unread_notifications


@bp.get("/notifications/")
@signed_in
def index():
    page = db.paginate(
        services.notifications_query(current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    items = [(notification, services.text_of(notification)) for notification in page.items]
    return render_template("notifications/index.html", page=page, items=items)


@bp.post("/notifications/<int:notification_id>/open")
@signed_in
def open_notification(notification_id: int):
    """Mark the notification read and go to the page it concerns."""
    notification = services.mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    target = local_path(notification.link) or url_for(".index")
    db.session.commit()
    return redirect(target)


@bp.post("/notifications/read")
@signed_in
def mark_all_read():
    count = services.mark_all_read(current_user)
    db.session.commit()
    if count:
        flash(
            ngettext("%(num)d notification marked as read.", "%(num)d notifications marked as read.", count),
            "success",
        )
    return redirect(url_for(".index"))


@bp.route(SETTINGS_PATH, methods=["GET", "POST"])
@signed_in
def settings():
    form = MailPreferenceForm()
    if form.validate_on_submit():
        services.set_optional_mails(current_user, bool(form.optional_mails.data))
        db.session.commit()
        flash(
            _("Optional e-mails are switched on.")
            if form.optional_mails.data
            else _("Optional e-mails are switched off."),
            "success",
        )
        return redirect(url_for(".settings"))
    if request.method == "GET":
        form.optional_mails.data = services.optional_mails_enabled(current_user)
    return render_template("notifications/settings.html", form=form)


# --- the outbox, for administrators ---------------------------------------------------------


@bp.get("/admin/outbox")
@roles_required(Role.ADMIN)
def outbox():
    form = OutboxFilterForm(request.args)
    form.validate()
    page = db.paginate(services.outbox_query(form.chosen), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    html = render_template(
        "notifications/outbox.html",
        form=form,
        page=page,
        subjects={message.id: mail.subject_of(message) for message in page.items},
        counts=services.outbox_counts(),
        status_label=status_label,
        Status=OutboxStatus,
    )
    # Mails name people's trainings and deadlines: an admin's look at them is audited, after rendering.
    recipients = services.recipients_of(page.items)
    privacy.record(current_user, recipients, AuditAction.VIEW_OUTBOX, ip_address=request.remote_addr)
    db.session.commit()
    return html


@bp.get("/admin/outbox/<int:message_id>")
@roles_required(Role.ADMIN)
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    recipients = services.recipients_of([message])
    html = render_template(
        "notifications/outbox_message.html",
        message=message,
        written=mail.preview(message, recipients[0] if recipients else None),
        status_label=status_label,
        Status=OutboxStatus,
    )
    privacy.record(current_user, recipients, AuditAction.VIEW_OUTBOX, ip_address=request.remote_addr)
    db.session.commit()
    return html


def status_label(status: str) -> str:
    """An outbox status in the reader's language (an unknown one as stored)."""
    return OutboxStatus(status).label if status in set(OutboxStatus) else status
