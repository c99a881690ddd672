from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lms.common.access import public, signed_in
from lms.common.vocabulary import Role
from lms.core.forms import LanguageForm
from lms.extensions import db

bp = Blueprint("core", __name__)

# Which page a user starts on: the first of their roles in this order.
HOME_BY_ROLE = (
    (Role.ADMIN, "admin.dashboard"),
    (Role.HR, "people.hr_overview"),
    (Role.DPO, "privacy.audit_log"),
    (Role.MANAGER, "team.my_team"),
    (Role.TRAINER, "learning.trainer_courses"),
)


@bp.get("/")
@signed_in
def home():
    for role, endpoint in HOME_BY_ROLE:
        if current_user.has_role(role):
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
    target = request.referrer or ""
    if not target.startswith(request.host_url):
        target = url_for("core.home")
    return redirect(target)


@bp.get("/login")
@public
def login_alias():
    """The address people guess; `next` is kept (the sign-in page checks it)."""
    return redirect(url_for("auth.login", next=request.args.get("next")))


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
