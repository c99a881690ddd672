"""Wires Flask-Login to the server-side sessions of lms.auth.services."""

from __future__ import annotations

from flask import Flask, flash, g, redirect, request, url_for
from flask_login import current_user

from lms.auth import services
from lms.common.urls import local_path
from lms.extensions import db, login_manager
from lms.i18n import _, _l

# Endpoints a user who must change their password may still reach.
_ALLOWED_WHILE_PASSWORD_CHANGE = {
    "auth.change_password",
    "auth.logout",
    "auth.logout_page",
    "static",
    "core.health",
    "core.set_language",
}


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str):
        lookup = services.load_session(token)
        if lookup.expired:
            g.session_expired = True
        if lookup.wrote:
            # last_seen or the end of an expired session: already flushed, so the session is not
            # "dirty" any more; committed here, or it would be lost unless the view commits too.
            db.session.commit()
        return lookup.user

    @login_manager.unauthorized_handler
    def unauthorized():
        if getattr(g, "session_expired", False):
            flash(_("Your session has ended. Please sign in again."), "info")
        else:
            flash(login_manager.login_message, "info")
        back = local_path(request.full_path.rstrip("?")) if request.method == "GET" else None
        return redirect(url_for("auth.login", next=back))

    @app.before_request
    def require_password_change():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _ALLOWED_WHILE_PASSWORD_CHANGE
        ):
            flash(_("Please choose a new password before you continue."), "info")
            return redirect(url_for("auth.change_password"))
        return None
