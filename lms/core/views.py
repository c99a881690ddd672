from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lms.common.access import public, signed_in
from lms.common.urls import local_path
from lms.common.vocabulary import Role, module_of
from lms.core.forms import LanguageForm
from lms.extensions import db

bp = Blueprint("core", __name__)

# Which page a user starts on: the first of their roles in this order.
HOME_BY_ROLE = (
    (Role.ADMIN, "admin.dashboard"),
    (Role.HR, "people.hr_overview"),
    (Role.DPO, "privacy.audit_log"),
    (Role.STAFF_COUNCIL, "privacy.settings"),
    (Role.MANAGER, "team.my_team"),
    (Role.TRAINER, "learning.trainer_courses"),
    (Role.CHANGE, "change.index"),
)


@bp.get("/")
@signed_in
def home():
    switched_off = current_app.config["MODULES_OFF"]
    for role, endpoint in HOME_BY_ROLE:
        if current_user.has_role(role) and module_of(endpoint) not in switched_off:
            return redirect(url_for(endpoint))
    return redirect(url_for("learning.my_learning"))


@bp.post("/language")
@public
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.language.data
        if current_user.is_authenticated:
            current_user.locale = form.language.data
            db.session.commit()
    return redirect(_same_site_page(request.referrer) or url_for("core.home"))


def _same_site_page(referrer: str | None) -> str | None:
    """The page the switch was used on, as a local path, if it was a page of this site."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer)
        here = urlsplit(request.host_url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


@bp.get("/login")
@public
def login_alias():
    """The address people guess; `next` is kept if it is a path on this site."""
    return redirect(url_for("auth.login", next=local_path(request.args.get("next"))))


@bp.get("/logout")
@public
def logout_alias():
    return redirect(url_for("auth.logout_page"))


@bp.get("/health")
@public
def health():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
